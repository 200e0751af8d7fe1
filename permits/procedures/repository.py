"""SQL of the procedure catalogue."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from accounts.repository import audit

COLUMNS = ("id, national_code, name_vi, name_en, field, online_level, statutory_days, day_kind, "
           "fee_vnd, fee_basis, department, level, documents, form_schema, applies_to, "
           "applies_to_land_use, unverified, version")
JSON_COLUMNS = ("documents", "form_schema")


class ProcedureRepository:
    """Procedures and their changes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def search(self, words: list[str], field: str | None) -> list[Any]:
        """Procedures whose folded names hold every word, in the catalogue's order."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM procedure WHERE (%(f)s::text IS NULL OR field = %(f)s) "
            "AND name_search LIKE ALL (%(w)s) ORDER BY field, name_vi",
            {"f": field, "w": [f"%{w}%" for w in words] or ["%"]}).all())

    def get(self, procedure_id: str, *, lock: bool = False) -> Any:
        """One procedure, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM procedure WHERE id = %(i)s" + (" FOR UPDATE" if lock else ""),
            {"i": procedure_id}).first()

    def update(self, procedure_id: str, values: dict[str, Any], name_search: str | None) -> None:
        """Set the facts given, bump the version (the columns are the schema's names)."""
        sets = [f"{k} = %({k})s" + ("::jsonb" if k in JSON_COLUMNS else "") for k in values]
        if name_search is not None:
            sets.append("name_search = %(name_search)s")
        params = {k: json.dumps(v, ensure_ascii=False) if k in JSON_COLUMNS else v
                  for k, v in values.items()}
        self.conn.exec_driver_sql(
            f"UPDATE procedure SET {', '.join(sets)}, version = version + 1, updated_at = now() "
            "WHERE id = %(i)s", {**params, "name_search": name_search, "i": procedure_id})

    def record(self, person_id: int | None, **detail: object) -> None:
        """The change in the audit log: which procedure, each fact before and after."""
        audit(self.conn, "procedure_change", person_id, **detail)
