"""Rules of dossiers: drafts belong to their applicant; submission gives the code; the
transition table decides every move; each move appends an event."""

from __future__ import annotations

from typing import Any

from accounts.policy import Principal, Subject, check, reach
from core.errors import ConflictError, InvalidInputError, NotFoundError
from permits.repository import DossierRepository


def subject(row: Any) -> Subject:
    """What the policy needs to know of a dossier."""
    return Subject(owner_id=int(row.owner_id), department=row.department, ward=row.ward_code,
                   private=row.status == "draft")


class DossierService:
    """Drafts, submission and look-up of dossiers."""

    def __init__(self, repository: DossierRepository, agency_code: str) -> None:
        self.repo = repository
        self.agency_code = agency_code

    def create(self, principal: Principal, procedure_id: str, parcel_key: str,
               applicant: dict[str, Any], answers: dict[str, Any]) -> Any:
        """A draft attached to a parcel, handled by the procedure's department."""
        assert principal.person_id is not None
        procedure = self.repo.procedure(procedure_id)
        if procedure is None or procedure.department is None:
            raise InvalidInputError(f"no procedure {procedure_id!r}", "procedure_id")
        ward = self.repo.parcel_ward(parcel_key)
        if ward is None:
            raise InvalidInputError(f"no parcel {parcel_key!r}", "parcel_key")
        dossier_id = self.repo.insert(principal.person_id, procedure_id, procedure.department,
                                      ward, parcel_key, applicant, answers)
        return self.repo.get(dossier_id)

    def _reached(self, principal: Principal, action: str, dossier_id: int,
                 lock: bool = False) -> Any:
        row = self.repo.get(dossier_id, lock)
        if row is None:
            raise NotFoundError("not found")
        check(principal, action, subject(row))
        return row

    def get(self, principal: Principal, dossier_id: int) -> Any:
        """One dossier the principal may see."""
        return self._reached(principal, "dossier.read", dossier_id)

    def list(self, principal: Principal, limit: int, offset: int) -> list[Any]:
        """The dossiers the principal may see."""
        return self.repo.within(reach(principal, "dossier.read"), limit, offset)

    def update(self, principal: Principal, dossier_id: int, applicant: dict[str, Any] | None,
               answers: dict[str, Any] | None) -> Any:
        """Change a draft of one's own."""
        row = self._reached(principal, "dossier.edit", dossier_id, lock=True)
        if row.status != "draft":
            raise ConflictError("only a draft can be changed", "status")
        self.repo.update_draft(dossier_id, applicant, answers)
        return self.repo.get(dossier_id)

    def act(self, principal: Principal, dossier_id: int, action: str) -> Any:
        """Move the dossier by the transition table (submit, withdraw)."""
        assert principal.person_id is not None
        row = self._reached(principal, "dossier.apply", dossier_id, lock=True)
        move = self.repo.transition(row.status, action)
        if move is None or move.actor_role not in principal.roles:
            raise ConflictError(f"a dossier in status {row.status!r} cannot be {action}ed here",
                                "status")
        code = self.repo.next_code(self.agency_code) if row.code is None else None
        self.repo.move(dossier_id, principal.person_id, action, row.status, move.to_status, code)
        return self.repo.get(dossier_id)

    def status(self, code: str) -> Any:
        """Status and dates by the code on the receipt."""
        row = self.repo.status_by_code(code)
        if row is None:
            raise NotFoundError("no dossier has this code", "code")
        return row
