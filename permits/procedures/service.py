"""Rules of the procedure catalogue: search without diacritics, administrators' changes."""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInputError, NotFoundError
from core.workflow import check_version
from layers.text import normalize_search
from permits.forms import check_form_schema
from permits.procedures.repository import ProcedureRepository
from permits.procedures.schemas import ProcedurePublic, ProcedureUpdate

# Facts a procedure may lack (no national code known, no fee); every other one it must have.
NULLABLE = frozenset({"national_code", "fee_vnd", "fee_basis", "department"})


class ProcedureService:
    """The catalogue."""

    def __init__(self, repo: ProcedureRepository) -> None:
        self.repo = repo

    def search(self, q: str | None, field: str | None) -> list[Any]:
        """Procedures matching every word of `q` (accents and case set aside), of a field."""
        return self.repo.search(normalize_search(q or "").split(), field)

    def get(self, procedure_id: str) -> ProcedurePublic:
        """One procedure, or 404."""
        row = self.repo.get(procedure_id)
        if row is None:
            raise NotFoundError(f"no procedure {procedure_id!r}", "procedure_id")
        return ProcedurePublic.model_validate(row, from_attributes=True)

    def update(self, procedure_id: str, change: ProcedureUpdate, if_match: str | None,
               person_id: int | None) -> ProcedurePublic:
        """An administrator's change, against the version they read (If-Match required), in
        the audit log with each fact before and after."""
        row = self.repo.get(procedure_id, lock=True)
        if row is None:
            raise NotFoundError(f"no procedure {procedure_id!r}", "procedure_id")
        current = ProcedurePublic.model_validate(row, from_attributes=True)
        check_version(current.etag, if_match, required=True)
        given = change.model_dump(mode="json", exclude_unset=True)
        for name, value in given.items():
            if value is None and name not in NULLABLE:
                raise InvalidInputError(f"{name} cannot be emptied", name)
        if "form_schema" in given:
            _check_form(given["form_schema"])
        before = current.model_dump(mode="json")
        changed = {k: v for k, v in given.items() if before.get(k) != v}
        if not changed:
            return current
        names = {**before, **changed}
        search = normalize_search(f"{names['name_vi']} {names['name_en']}") \
            if {"name_vi", "name_en"} & set(changed) else None
        self.repo.update(procedure_id, changed, search)
        self.repo.record(person_id, procedure=procedure_id,
                         changes={k: [before.get(k), v] for k, v in changed.items()})
        return self.get(procedure_id)


def _check_form(schema: dict[str, Any]) -> None:
    """A form: a valid JSON Schema object of named fields (the subset the web app renders)."""
    check_form_schema(schema)
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict):
        raise InvalidInputError("form_schema: a JSON Schema of type object with properties",
                                "form_schema")
    for name, spec in properties.items():
        if not isinstance(spec, dict) or spec.get("type") not in ("string", "integer",
                                                                  "number", "boolean"):
            raise InvalidInputError(f"form_schema: field {name} needs a type of string, "
                                    "integer, number or boolean", "form_schema")
    missing = [r for r in schema.get("required", []) if r not in properties]
    if missing:
        raise InvalidInputError(f"form_schema: required names no field {', '.join(missing)}",
                                "form_schema")
