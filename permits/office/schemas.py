"""What the office routes take and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

STRICT = ConfigDict(extra="forbid")
EVENT_YEARS = (2000, 2098)
Kind = Literal["dossier", "feedback", "task"]


class QueueItem(BaseModel):
    """One item of an officer's queue: what, where, by when, and the one next move."""

    kind: Kind
    id: int
    etag: str = Field(description="Send it as If-Match with the item's move")
    label: str | None = Field(description="A dossier's code, a report's number")
    title: str = Field(description="The procedure, the category, the task's title")
    status: str
    department: str
    ward_code: str | None
    ward: str | None = Field(description="The ward since 1 July 2025")
    old_ward: str | None = Field(description="The ward before 1 July 2025")
    lon: float | None
    lat: float | None
    due_on: date | None
    working_days_left: int | None = Field(description="Negative: working days overdue")
    urgency: Literal["overdue", "today", "soon", "later", "none"]
    next_action: str | None = Field(description="The move the caller may make next, if any")
    assignee_id: int | None


class AssignmentIn(BaseModel):
    """A leader gives an item to an officer of the department."""

    model_config = STRICT

    kind: Kind
    id: int = Field(ge=1, le=2**62)
    assignee_id: int = Field(ge=1, le=2**62)
    note: str | None = Field(default=None, max_length=1000)


class Assigned(BaseModel):
    """An assignment made: the item's new ETag."""

    kind: Kind
    id: int
    assignee_id: int
    etag: str


class TaskIn(BaseModel):
    """A free task: what, by when, for whom, where."""

    model_config = STRICT

    title: str = Field(min_length=3, max_length=300)
    description: str = Field(default="", max_length=4000)
    due_on: date
    assignee_id: int | None = Field(default=None, ge=1, le=2**62,
                                    description="None: the department's")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    note: str | None = Field(default=None, max_length=1000)


class TaskEvent(BaseModel):
    """One move of a task."""

    action: str
    from_status: str | None
    to_status: str
    at: datetime
    actor_id: int | None
    note: str | None
    detail: dict[str, Any]


class TaskPublic(BaseModel):
    """A task, as its department sees it."""

    id: int
    version: int
    status: Literal["open", "done", "cancelled"]
    title: str
    description: str
    department: str
    ward_code: str | None
    lon: float | None
    lat: float | None
    due_on: date
    assignee_id: int | None
    created_by: int | None
    created_at: datetime
    done_at: datetime | None
    events: list[TaskEvent] = Field(default_factory=list)


class TaskAction(BaseModel):
    """A move of a task."""

    model_config = STRICT

    action: Literal["complete", "cancel", "reopen"]
    note: str | None = Field(default=None, max_length=1000)


class Notice(BaseModel):
    """One notice of the app's list."""

    id: int
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class NoticesRead(BaseModel):
    """Notices read, up to one."""

    model_config = STRICT

    up_to: int = Field(ge=1, le=2**62)


class StatsRow(BaseModel):
    """One group's figures of a period, computed from the events."""

    key: str | None = Field(description="The field, procedure, ward code, officer's id or "
                            "department")
    name: str | None
    received: int
    handled: int = Field(description="Decided (dossiers), answered or closed (feedback)")
    on_time: int
    late: int
    overdue: int = Field(description="Not handled, past the return date")
    supplement_days: int = Field(description="Working days the applicants owed supplements "
                                 "(not counted against the office)")
    rate: float | None = Field(description="on_time / handled")
    said: str = Field(examples=["1538/1618 = 95 %"])


class Stats(BaseModel):
    """The on-time figures of a period."""

    first: date
    last: date
    group: str
    dossiers: list[StatsRow]
    feedback: list[StatsRow]


class DocumentIn(BaseModel):
    """A register entry: number, symbol, date, issuing body, summary, type, urgency."""

    model_config = STRICT

    direction: Literal["incoming", "outgoing"]
    number: str = Field(min_length=1, max_length=40, description="Its number in the register")
    symbol: str = Field(min_length=1, max_length=80, examples=["123/UBND-QLĐT"])
    issued_on: date
    issuer: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=2000, description="Trích yếu")
    doc_type: str = Field(min_length=1, max_length=40, examples=["Công văn"])
    urgency: Literal["normal", "urgent", "very_urgent", "flash"] = "normal"
    body_text: str = Field(default="", max_length=200_000)


class DocumentLink(BaseModel):
    """What a document is about."""

    kind: Literal["dossier", "parcel", "task"]
    ref: str
    found: bool = Field(description="Found in its text (else named by hand)")


class DocumentPublic(BaseModel):
    """A register entry, as the department sees it."""

    id: int
    direction: str
    number: str
    symbol: str
    issued_on: date
    issuer: str
    summary: str
    doc_type: str
    urgency: str
    department: str
    handler_id: int | None
    source: str
    created_at: datetime
    deadline_on: date | None = Field(description="The limit its text sets (incoming only), "
                                     "for the officer to take on as a task")
    file_name: str | None = Field(default=None, description="Its file's name, if it has one "
                                  "(GET …/file downloads it)")
    file_type: str | None = None
    file_size: int | None = None
    links: list[DocumentLink]


class TakeOn(BaseModel):
    """An incoming document's deadline as my task: the date its text sets, or another."""

    model_config = STRICT

    due_on: date | None = None
    title: str | None = Field(default=None, min_length=3, max_length=300)


class ReportIn(BaseModel):
    """A map report to make: its period; an administrator names the department (none: the
    whole district), a leader's is their own."""

    model_config = STRICT

    period: str = Field(max_length=7, examples=["2026-11", "2026-Q4", "2026-H2"])
    department: str | None = Field(default=None, max_length=64)


class ReportPublic(BaseModel):
    """A kept map report; `url` opens its page."""

    id: int
    kind: str
    period: str
    department: str | None
    made_at: datetime
    url: str


class DocumentsImported(BaseModel):
    """What an import did."""

    added: int
    skipped: int = Field(description="Already in the register")
    links: int


class EventIn(BaseModel):
    """A calendar entry: one's own (an inspection, leave) or, a leader's, the department's."""

    model_config = STRICT

    kind: Literal["meeting", "inspection", "leave"]
    title: str = Field(min_length=3, max_length=300)
    # With its zone: "9:00" means a moment only where it is said.
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    scope: Literal["mine", "department"] = "mine"
    place: str = Field(default="", max_length=300)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _in_the_calendar(cls, value: datetime) -> datetime:
        # The years the working-day calendar covers (and none a zone shift could overflow).
        if not EVENT_YEARS[0] <= value.year <= EVENT_YEARS[1]:
            raise ValueError(f"a time from {EVENT_YEARS[0]} to {EVENT_YEARS[1]}")
        return value


class CalendarEntry(BaseModel):
    """One line of the calendar: an event, or a deadline of the queue."""

    kind: Literal["meeting", "inspection", "leave", "deadline"]
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    place: str
    lon: float | None
    lat: float | None
    ref: str


class FeedOut(BaseModel):
    """The calendar feed's secret address (shown once; a new one revokes the old)."""

    url: str


class OfficerLoad(BaseModel):
    """An officer of the department: open items given to them, pace, leave ahead."""

    person_id: int
    name: str
    open: int
    pace: float = Field(description="Items brought to an end a working day (last 20)")
    leave_days: int


class ItemRisk(BaseModel):
    """An open item's chance of running late."""

    kind: Kind
    id: int
    etag: str
    label: str | None
    title: str
    due_on: date | None
    working_days_left: int | None
    assignee_id: int | None
    chance: float


class Reassignment(BaseModel):
    """A suggested reassignment: send it as an assignment to accept it."""

    kind: Kind
    id: int
    etag: str
    from_id: int | None
    to_id: int
    chance_now: float
    chance_after: float


class ForecastOut(BaseModel):
    """The department's forecast."""

    officers: list[OfficerLoad]
    items: list[ItemRisk] = Field(description="The riskiest first")
    suggestions: list[Reassignment]
