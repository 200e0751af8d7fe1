"""SQL of dossiers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from accounts.policy import Reach
from core.clock import today

COLUMNS = ("id, version, code, procedure_id, parcel_key, ward_code, department, status, "
           "applicant, answers, created_at, updated_at, submitted_at, owner_id, received_at, "
           "due_on, clock_stopped_on, stopped_days, decided_at, returned_at")
COLUMN_NAMES = tuple(name.strip() for name in COLUMNS.split(","))
EVENT_COLUMNS = "e.id, e.action, e.from_status, e.to_status, e.at, e.visibility"


def dossier_of(values: Mapping[str, Any]) -> Any:
    """A dossier as `get` reads it, from the row the engine's move returned."""
    return SimpleNamespace(**{name: values[name] for name in COLUMN_NAMES})


class DossierRepository:
    """Reads and writes dossiers and their events."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def procedure(self, procedure_id: str) -> Any:
        """A procedure with its department, statutory time, fee and form, or None."""
        return self.conn.exec_driver_sql(
            "SELECT id, department, statutory_days, day_kind, name_vi, name_en, documents, "
            "form_schema, fee_vnd, online_level FROM procedure WHERE id = %(i)s",
            {"i": procedure_id}
        ).first()

    def statutory_time(self, procedure_id: str) -> tuple[int, str]:
        """A procedure's statutory time and the kind of days it counts (on every receipt:
        the two columns, not the form and documents)."""
        row = self.conn.exec_driver_sql(
            "SELECT statutory_days, day_kind FROM procedure WHERE id = %(i)s",
            {"i": procedure_id}).one()
        return int(row.statutory_days), str(row.day_kind)

    def parcel_ward(self, parcel_key: str) -> str | None:
        """The current ward code of a parcel, or None when there is no such parcel."""
        row = self.conn.exec_driver_sql(
            "SELECT coalesce(cw.code, ow.code) FROM parcel p "
            "JOIN admin_unit ow ON ow.id = p.ward_id "
            "LEFT JOIN admin_unit cw ON cw.id = p.current_ward_id WHERE p.parcel_key = %(k)s",
            {"k": parcel_key},
        ).first()
        return None if row is None else str(row[0])

    def get(self, dossier_id: int, lock: bool = False) -> Any:
        """One dossier, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM dossier WHERE id = %(i)s" + (" FOR UPDATE" if lock else ""),
            {"i": dossier_id},
        ).first()

    def within(self, reach: Reach, limit: int, offset: int) -> list[Any]:
        """Dossiers the reach covers, newest first; drafts only for their owner."""
        pairs = [(d, w) for d, wards in reach.department_wards for w in wards]
        return list(self.conn.exec_driver_sql(
            f"""
            SELECT {COLUMNS} FROM dossier
            WHERE %(all)s
               OR owner_id = %(owner)s
               OR (status <> 'draft' AND department = ANY(%(depts)s::text[]))
               OR (status <> 'draft' AND EXISTS (
                     SELECT 1 FROM unnest(%(pd)s::text[], %(pw)s::text[]) AS x(d, w)
                     WHERE x.d = department AND x.w = ward_code))
            ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s
            """,
            {"all": reach.everything, "owner": reach.owner_id, "depts": list(reach.departments),
             "pd": [p[0] for p in pairs], "pw": [p[1] for p in pairs], "limit": limit,
             "offset": offset},
        ).all())

    def update_draft(self, dossier_id: int, applicant: dict[str, Any] | None,
                     answers: dict[str, Any] | None) -> None:
        """Replace the applicant and/or the answers of a draft: a new version (a new ETag)."""
        self.conn.exec_driver_sql(
            "UPDATE dossier SET applicant = coalesce(%(a)s::jsonb, applicant), "
            "answers = coalesce(%(n)s::jsonb, answers), version = version + 1, "
            "updated_at = now() WHERE id = %(i)s",
            {"a": None if applicant is None else json.dumps(applicant),
             "n": None if answers is None else json.dumps(answers), "i": dossier_id},
        )

    def next_code(self, agency: str) -> str:
        """The next dossier code of today (Vietnam time): <agency>-YYMMDD-NNNN."""
        row = self.conn.exec_driver_sql(
            """
            INSERT INTO dossier_code_counter AS c (day, last)
            VALUES (%(day)s, 1)
            ON CONFLICT (day) DO UPDATE SET last = c.last + 1
            RETURNING to_char(day, 'YYMMDD'), last
            """,
            {"day": today()},
        ).one()
        return f"{agency}-{row[0]}-{row[1]:04d}"

    def status_by_code(self, code: str) -> Any:
        """Status and dates of a submitted dossier, with its procedure's names."""
        return self.conn.exec_driver_sql(
            "SELECT d.id, d.code, p.name_vi AS procedure_name_vi, "
            "p.name_en AS procedure_name_en, d.status, d.submitted_at, d.updated_at, "
            "d.received_at, d.due_on, d.returned_at, r.sha256 AS result_sha256, "
            "r.signed_at AS result_signed_at FROM dossier d "
            "JOIN procedure p ON p.id = d.procedure_id "
            "LEFT JOIN dossier_result r ON r.dossier_id = d.id WHERE d.code = %(c)s",
            {"c": code},
        ).first()

    def events(self, dossier_id: int, visibilities: list[str], *, with_detail: bool,
               forms_only: bool = False) -> list[Any]:
        """A dossier's events of those visibilities (only those that wrote a form, when
        asked), oldest first; notes, details and who acted only `with_detail`, never for the
        public."""
        more = (", e.note, e.detail, coalesce(pe.display_name, '') AS actor_name"
                if with_detail else "")
        return list(self.conn.exec_driver_sql(
            f"SELECT {EVENT_COLUMNS}{more} FROM dossier_event e "
            "LEFT JOIN person pe ON pe.id = e.actor_id "
            "WHERE e.dossier_id = %(d)s AND e.visibility = ANY(%(v)s::text[]) "
            "AND (NOT %(f)s OR e.detail ? 'form') ORDER BY e.id",
            {"d": dossier_id, "v": visibilities, "f": forms_only}).all())

    def access(self, code_hash: bytes) -> Any:
        """The open supplement request an access code opens, with its dossier, or None."""
        return self.conn.exec_driver_sql(
            "SELECT a.id, a.dossier_id, a.event_id, a.expires_at, e.detail, d.code, "
            "d.status, d.version, d.owner_id, p.name_vi AS procedure_name_vi, "
            "p.name_en AS procedure_name_en FROM dossier_access a "
            "JOIN dossier d ON d.id = a.dossier_id "
            "JOIN dossier_event e ON e.id = a.event_id "
            "JOIN procedure p ON p.id = d.procedure_id "
            "WHERE a.code_hash = %(h)s AND a.used_at IS NULL AND a.expires_at > now()",
            {"h": code_hash}).first()

    def lapsed(self, today: Any, states: list[str], limit: int) -> list[int]:
        """Dossiers whose return date has passed while the clock runs."""
        return [int(r[0]) for r in self.conn.exec_driver_sql(
            "SELECT id FROM dossier WHERE due_on < %(t)s AND status = ANY(%(s)s::text[]) "
            "ORDER BY due_on, id LIMIT %(n)s", {"t": today, "s": states, "n": limit})]
