"""API shapes of dossiers: what the applicant sends, what they and staff see, what anyone sees."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from permits.workflow import DossierStatus as State

STRICT = ConfigDict(extra="forbid")
# Form answers: short scalar values keyed by field name; the procedure's form gives them meaning.
AnswerKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Answer = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool


class Applicant(BaseModel):
    """Who applies (personal data: never in public answers)."""

    model_config = STRICT

    full_name: str = Field(min_length=1, max_length=100, examples=["Nguyễn Văn An"])
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .]{9,15}$")
    id_number: str | None = Field(default=None, pattern=r"^[0-9]{9,12}$",
                                  description="Citizen ID (CCCD) number")
    address: str | None = Field(default=None, max_length=300)


class DossierCreate(BaseModel):
    """A draft started from a parcel."""

    model_config = STRICT

    procedure_id: str = Field(max_length=64, examples=["construction-permit-house"])
    parcel_key: str = Field(pattern=r"^[0-9]{5,12}$", examples=["274660120045"])
    applicant: Applicant
    answers: dict[AnswerKey, Answer] = Field(default_factory=dict, max_length=100)


class DossierUpdate(BaseModel):
    """Changes to a draft."""

    model_config = STRICT

    applicant: Applicant | None = None
    answers: dict[AnswerKey, Answer] | None = Field(default=None, max_length=100)


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# What staff do through POST /api/dossiers/{id}/actions (applicants have their own routes).
Action = Literal["receive", "decline", "start", "request_supplement", "resume", "approve",
                 "refuse", "issue_result", "return_result", "apologise"]


class DossierAction(BaseModel):
    """One move of the dossier's transition table, with the facts its form needs."""

    model_config = STRICT

    action: Action
    note: str | None = Field(default=None, max_length=2000)
    missing: list[Line] | None = Field(
        default=None, max_length=30,
        description="Form 02 (request_supplement): each document or fact that is missing")
    due_on: date | None = Field(default=None,
                                description="Form 02: the day the supplement is due")
    reasons: list[Line] | None = Field(default=None, max_length=30,
                                       description="Form 03 (refuse, decline): the reasons")
    reason: str | None = Field(default=None, max_length=2000,
                               description="Form 04 (apologise): why it is late")
    new_due_on: date | None = Field(default=None, description="Form 04: the new return date")
    result_no: str | None = Field(default=None, max_length=60,
                                  description="issue_result: the permit's or certificate's no.")

    def form(self) -> dict[str, Any]:
        """The facts the move's event keeps."""
        return {k: v.isoformat() if isinstance(v, date) else v
                for k, v in self.model_dump(exclude={"action", "note"}).items()}


class DossierView(BaseModel):
    """A dossier as its applicant and the staff handling it see it."""

    id: int
    code: str | None
    procedure_id: str
    parcel_key: str
    ward_code: str
    department: str
    status: State
    applicant: Applicant
    answers: dict[str, Answer]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    received_at: datetime | None = None
    due_on: date | None = Field(default=None, description="The return date (Form 01)")
    clock_stopped_on: date | None = Field(
        default=None, description="Set while the applicant owes a supplement")
    stopped_days: int = 0
    decided_at: datetime | None = None
    returned_at: datetime | None = None
    actions: list[str] = Field(default_factory=list,
                               description="The moves the caller may make now")


class EventView(BaseModel):
    """One move in a dossier's history, as its applicant and staff see it."""

    id: int
    action: str
    from_status: State | None
    to_status: State
    at: datetime
    visibility: str
    note: str | None
    detail: dict[str, Any]
    actor_name: str


class PublicEvent(BaseModel):
    """One public move: what and when, never who or why."""

    action: str
    to_status: State
    at: datetime


class DossierStatus(BaseModel):
    """What anyone holding the code may see: status and dates, nothing personal."""

    code: str
    procedure_name_vi: str
    procedure_name_en: str
    status: State
    submitted_at: datetime
    updated_at: datetime
    received_at: datetime | None = None
    due_on: date | None = None
    returned_at: datetime | None = None
    result_sha256: str | None = Field(
        default=None, description="The signed result's SHA-256: a copy whose hash is this one "
        "is the result the office issued")
    result_signed_at: datetime | None = None
    events: list[PublicEvent] = Field(default_factory=list)


class FormView(BaseModel):
    """A form a move wrote (01 receipt, 02 supplement request, 03 reasons, 04 apology), as a
    page of the web app shows it to the applicant and the staff."""

    form: str
    title_vi: str
    event_id: int
    at: datetime
    officer: str
    code: str | None
    procedure_id: str
    parcel_key: str
    applicant_name: str
    detail: dict[str, Any]
    note: str | None


class SupplementRequest(BaseModel):
    """What a supplement's access code opens: the request, not the dossier."""

    code: str
    procedure_name_vi: str
    procedure_name_en: str
    missing: list[str]
    due_on: date
    expires_at: datetime


class SupplementAnswer(BaseModel):
    """The applicant's answer to a supplement request."""

    model_config = STRICT

    note: str | None = Field(default=None, max_length=2000)
