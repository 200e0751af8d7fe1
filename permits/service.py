"""Rules of dossiers: drafts belong to their applicant; submission gives the code; the
transition table decides every move; each move appends an event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from accounts.policy import Principal, Subject, check, may, reach, workflow_actor
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.workflow import (
    NOW,
    SYSTEM,
    Actor,
    Context,
    Fired,
    Seen,
    Visibility,
    check_version,
    create,
    fire,
    preflight,
)
from permits.clock import Clock
from permits.forms import check_answers
from permits.precheck.schemas import PrecheckPublic
from permits.precheck.service import precheck_for
from permits.repository import DossierRepository, dossier_of
from permits.workflow import CLOCK_RUNS, DOSSIER, FORMS, DossierStatus, access_hash, today


class ResultMaking(Protocol):
    """What makes a dossier's signed result (permits/results: it reads this module)."""

    def make(self, dossier: Any, result_no: str, origin: str) -> Any:
        """The result, signed and kept, for the move that issues it to record."""
        ...


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

    def __init__(self, repository: DossierRepository, agency_code: str,
                 clock: Clock | None = None, results: ResultMaking | None = None) -> None:
        self.repo = repository
        self.agency_code = agency_code
        self.clock = clock or Clock(repository.conn)
        self.results = results

    def create(self, principal: Principal, procedure_id: str, parcel_key: str,
               applicant: dict[str, Any], answers: dict[str, Any]) -> Any:
        """A draft attached to a parcel, handled by the procedure's department."""
        assert principal.person_id is not None
        procedure = self.repo.procedure(procedure_id)
        if procedure is None or procedure.department is None:
            raise InvalidInputError(f"no procedure {procedure_id!r}", "procedure_id")
        check_answers(procedure.form_schema, answers, complete=False)  # a draft: may be partial
        ward = self.repo.parcel_ward(parcel_key)
        if ward is None:
            raise InvalidInputError(f"no parcel {parcel_key!r}", "parcel_key")
        created = create(self.repo.conn, DOSSIER, "create", actor(principal), {
            "owner_id": principal.person_id, "procedure_id": procedure_id,
            "department": procedure.department, "ward_code": ward, "parcel_key": parcel_key,
            "applicant": applicant, "answers": answers})
        return dossier_of(created.row)

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
        if answers is not None:
            check_answers(self.repo.procedure(row.procedure_id).form_schema, answers,
                          complete=False)
        self.repo.update_draft(dossier_id, applicant, answers)
        return self.repo.get(dossier_id)

    def act(self, principal: Principal, dossier_id: int, action: str,
            if_match: str | None = None, note: str | None = None,
            form: Mapping[str, Any] | None = None, origin: str = "") -> tuple[Any, Fired]:
        """Move the dossier by its transition table, through the engine; the form's facts
        (what is missing, the reasons, the new date) go in the event, the dates it sets on
        the dossier."""
        def seen(row: Mapping[str, Any]) -> None:
            # On the row the engine locked: one read, and the dates below come from it too.
            check(principal, "dossier.read", _row_subject(row))

        return self._fire(dossier_id, action, actor(principal), if_match, note, form, origin,
                          seen)

    def _fire(self, dossier_id: int, action: str, who: Actor, if_match: str | None,
              note: str | None, form: Mapping[str, Any] | None, origin: str = "",
              seen: Seen | None = None) -> tuple[Any, Fired]:
        detail: dict[str, Any] = {k: v for k, v in (form or {}).items() if v not in (None, [])}
        if action in FORMS:
            detail["form"] = FORMS[action]
        carry: dict[str, Any] = {"origin": origin}
        if action == "issue_result" and self.results is not None:
            # Signing takes a tenth of a second: only once every check of the move holds.
            row = preflight(self.repo.conn, DOSSIER, dossier_id, action, who,
                            if_match=if_match, note=note, detail=detail, seen=seen)
            carry["result"] = self.results.make(dossier_of(row), str(detail["result_no"]),
                                                origin)
        fired = fire(self.repo.conn, DOSSIER, dossier_id, action, who, if_match=if_match,
                     note=note, detail=detail, values={"updated_at": NOW}, carry=carry,
                     seen=seen, settle=self._settle)
        return dossier_of(fired.row), fired

    def _settle(self, ctx: Context) -> dict[str, Any]:
        """What a move sets, from the locked row: the code, the return date, the stopped
        clock, the decision (the dates also go in the event's detail)."""
        row, action, detail = dossier_of(ctx.row), ctx.transition.action, ctx.detail
        values: dict[str, Any] = {}
        now, day = NOW, today()
        if action == "submit" and row.code is None:
            values["code"] = self.repo.next_code(self.agency_code)
        elif action == "receive":
            days, day_kind = self.repo.statutory_time(row.procedure_id)
            due = self.clock.due(day, days, day_kind, row.department)
            values.update(received_at=now, due_on=due)
            detail.update(received_on=day.isoformat(), due_on=due.isoformat(), days=days,
                          day_kind=day_kind)
        elif action == "request_supplement":
            values["clock_stopped_on"] = day
        elif action in ("supplement", "withdraw", "refuse") and row.clock_stopped_on:
            # The days the applicant owed the supplement do not count against the office.
            stood = self.clock.stood(row.clock_stopped_on, day, row.department)
            values.update(clock_stopped_on=None, stopped_days=row.stopped_days + stood)
            if action == "supplement" and row.due_on is not None:
                values["due_on"] = self.clock.extend(row.due_on, stood, row.department)
                detail.update(stopped_days=stood, due_on=values["due_on"].isoformat())
        elif action == "apologise":
            new = _date(detail.get("new_due_on"))
            if new is not None:
                values["due_on"] = new
            detail["old_due_on"] = str(row.due_on)
        if action in ("approve", "refuse"):
            values["decided_at"] = now
        elif action == "return_result":
            values["returned_at"] = now
        return values

    def next_actions(self, principal: Principal, row: Any) -> Sequence[str]:
        """The moves from the dossier's state the principal may make (none for the platform's)."""
        # Not an assignment: it moves the dossier nowhere (the office's queue offers it).
        return [move.action for move in DOSSIER.transitions
                if move.source == row.status and move.allowed_by is not None
                and move.target != move.source
                and may(principal, move.allowed_by, subject(row))]

    def precheck(self, principal: Principal, dossier_id: int) -> PrecheckPublic:
        """The pre-check of the dossier's planned building against its parcel, as the
        applicant saw it before submitting (officers see the same)."""
        row = self._reached(principal, "dossier.read", dossier_id)
        return precheck_for(self.repo.conn, row.parcel_key, row.answers)

    def history(self, principal: Principal, row: Any, forms_only: bool = False
                ) -> Sequence[Any]:
        """The events the principal may read: staff all but internal, the applicant theirs."""
        seen = [Visibility.PUBLIC, Visibility.APPLICANT]
        if principal.is_staff:
            seen.append(Visibility.STAFF)
        return self.repo.events(row.id, [str(v) for v in seen], with_detail=True,
                                forms_only=forms_only)

    def forms(self, principal: Principal, dossier_id: int) -> tuple[Any, Sequence[Any]]:
        """The forms its moves wrote (receipt, supplement requests, reasons, apologies) and the
        dossier, for whoever may read it."""
        row = self._reached(principal, "dossier.read", dossier_id)
        return row, self.history(principal, row, forms_only=True)

    def status(self, code: str) -> tuple[Any, Sequence[Any]]:
        """Status, dates and public events by the code on the receipt."""
        row = self.repo.status_by_code(code)
        if row is None:
            raise NotFoundError("no dossier has this code", "code")
        return row, self.repo.events(row.id, [Visibility.PUBLIC.value], with_detail=False)

    # -- a supplement answered from the link in the message -----------------------------------

    def _opened(self, code: str) -> Any:
        found = self.repo.access(access_hash(code))
        if found is None or found.status != DossierStatus.SUPPLEMENT_REQUESTED:
            raise NotFoundError("this link is not valid any more: it was answered or it "
                                "expired", "code")
        return found

    def supplement_request(self, code: str) -> Any:
        """What the request behind an access code asks, and by when."""
        return self._opened(code)

    def answer_supplement(self, code: str, note: str | None,
                          documents: Sequence[str] = ()) -> tuple[Any, Fired]:
        """The applicant answers the request the code was made for (the code is the authority:
        it was sent only to them, and it opens this one request)."""
        found = self._opened(code)
        by_link = Actor(found.owner_id, authorize=lambda action, _: None)
        return self._fire(found.dossier_id, "supplement", by_link, None, note,
                          {"documents": list(documents), "request_event_id": found.event_id})

    # -- the platform's own moves ---------------------------------------------------------------

    def mark_overdue(self, limit: int = 500) -> int:
        """Dossiers past their return date while the clock runs become overdue."""
        done = 0
        for dossier_id in self.repo.lapsed(today(), [str(s) for s in CLOCK_RUNS], limit):
            row = self.repo.get(dossier_id, lock=True)
            if row is not None and row.status in CLOCK_RUNS:
                self._fire(row.id, "lapse", SYSTEM, None, None, None)
                done += 1
        return done


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
