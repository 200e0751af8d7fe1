"""SQL of a dossier's papers: the event that wrote a form, the procedure and ward they name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

EVENT = ("SELECT e.id, e.action, e.at, e.note, e.detail, coalesce(p.display_name, '') AS "
         "actor_name FROM dossier_event e LEFT JOIN person p ON p.id = e.actor_id ")


class PaperRepository:
    """Reads what a paper says of a dossier."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def form_event(self, dossier_id: int, form: str, visibilities: list[str]) -> Any:
        """The latest event of those visibilities that wrote the form, or None."""
        return self.conn.exec_driver_sql(
            EVENT + "WHERE e.dossier_id = %(d)s AND e.detail->>'form' = %(f)s "
            "AND e.visibility = ANY(%(v)s::text[]) ORDER BY e.id DESC LIMIT 1",
            {"d": dossier_id, "f": form, "v": visibilities}).first()

    def result_event(self, dossier_id: int) -> Any:
        """The latest move that issued the dossier's result (its number), or None."""
        return self.conn.exec_driver_sql(
            EVENT + "WHERE e.dossier_id = %(d)s AND e.action = 'issue_result' "
            "ORDER BY e.id DESC LIMIT 1", {"d": dossier_id}).first()

    def procedure(self, procedure_id: str) -> Any:
        """The procedure's names, time, online level, field and handling level."""
        return self.conn.exec_driver_sql(
            "SELECT id, name_vi, statutory_days, day_kind, online_level, field, level "
            "FROM procedure WHERE id = %(i)s", {"i": procedure_id}).one()

    def ward_name(self, ward_code: str) -> str | None:
        """The ward's name as it is now (a code kept by a merged ward names the new one)."""
        found = self.conn.exec_driver_sql(
            "SELECT name FROM admin_unit WHERE level = 'ward' AND code = %(c)s "
            "ORDER BY valid_to IS NULL DESC, valid_from DESC LIMIT 1", {"c": ward_code}).first()
        return None if found is None else str(found[0])

    def documents_submitted(self, dossier_id: int, by: datetime) -> list[str]:
        """The names of the procedure's documents that had a file by then, in its order."""
        return [str(r[0]) for r in self.conn.exec_driver_sql(
            """
            SELECT d.spec->>'vi' FROM dossier x
            JOIN procedure p ON p.id = x.procedure_id
            CROSS JOIN LATERAL jsonb_array_elements(p.documents) WITH ORDINALITY AS d(spec, n)
            WHERE x.id = %(d)s AND EXISTS (
                SELECT 1 FROM dossier_document a WHERE a.dossier_id = x.id
                AND a.doc_key = d.spec->>'key' AND a.removed_at IS NULL
                AND a.uploaded_at <= %(by)s)
            ORDER BY d.n
            """, {"d": dossier_id, "by": by})]
