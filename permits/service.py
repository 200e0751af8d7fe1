"""Rules of dossiers: drafts belong to their applicant; submission gives the code; the
transition table decides every move; each move appends an event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts.policy import Principal, Subject, check, reach, workflow_actor
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.workflow import Actor, Fired, check_version, create, fire
from permits.repository import DossierRepository
from permits.workflow import DOSSIER, DossierStatus


def subject(row: Any) -> Subject:
    """What the policy needs to know of a dossier."""
    return Subject(owner_id=int(row.owner_id), department=row.department, ward=row.ward_code,
                   private=row.status == DossierStatus.DRAFT)


def _row_subject(row: Mapping[str, Any]) -> Subject | None:
    if "status" not in row:  # a creation: the action alone
        return None
    return Subject(owner_id=int(row["owner_id"]), department=row["department"],
                   ward=row["ward_code"], private=row["status"] == DossierStatus.DRAFT)


def reached(repo: DossierRepository, principal: Principal, action: str, dossier_id: int,
            lock: bool = False) -> Any:
    """The dossier, if the principal may do the action on it (404 when there is none, or
    when the policy hides it)."""
    row = repo.get(dossier_id, lock)
    if row is None:
        raise NotFoundError("not found")
    check(principal, action, subject(row))
    return row


def actor(principal: Principal) -> Actor:
    """The principal as the workflow engine asks the policy about them."""
    return workflow_actor(principal, _row_subject)


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
        created = create(self.repo.conn, DOSSIER, "create", actor(principal), {
            "owner_id": principal.person_id, "procedure_id": procedure_id,
            "department": procedure.department, "ward_code": ward, "parcel_key": parcel_key,
            "applicant": applicant, "answers": answers})
        return self.repo.get(created.row_id)

    def _reached(self, principal: Principal, action: str, dossier_id: int,
                 lock: bool = False) -> Any:
        return reached(self.repo, principal, action, dossier_id, lock)

    def get(self, principal: Principal, dossier_id: int) -> Any:
        """One dossier the principal may see."""
        return self._reached(principal, "dossier.read", dossier_id)

    def list(self, principal: Principal, limit: int, offset: int) -> list[Any]:
        """The dossiers the principal may see."""
        return self.repo.within(reach(principal, "dossier.read"), limit, offset)

    def update(self, principal: Principal, dossier_id: int, applicant: dict[str, Any] | None,
               answers: dict[str, Any] | None, if_match: str | None = None) -> Any:
        """Change a draft of one's own (If-Match, when sent, must name its version)."""
        row = self._reached(principal, "dossier.edit", dossier_id, lock=True)
        if row.status != DossierStatus.DRAFT:
            raise ConflictError("only a draft can be changed", "status")
        check_version(DOSSIER.etag(dossier_id, row.version), if_match)
        self.repo.update_draft(dossier_id, applicant, answers)
        return self.repo.get(dossier_id)

    def act(self, principal: Principal, dossier_id: int, action: str,
            if_match: str | None = None, note: str | None = None) -> tuple[Any, Fired]:
        """Move the dossier by its transition table (submit, withdraw), through the engine."""
        row = self._reached(principal, "dossier.read", dossier_id)
        values: dict[str, Any] = {"updated_at": self.repo.now()}
        if action == "submit":
            if row.code is None and DOSSIER.move(row.status, action) is not None:
                values["code"] = self.repo.next_code(self.agency_code)
        fired = fire(self.repo.conn, DOSSIER, dossier_id, action, actor(principal),
                     if_match=if_match, note=note, values=values)
        return self.repo.get(dossier_id), fired

    def status(self, code: str) -> Any:
        """Status and dates by the code on the receipt."""
        row = self.repo.status_by_code(code)
        if row is None:
            raise NotFoundError("no dossier has this code", "code")
        return row
