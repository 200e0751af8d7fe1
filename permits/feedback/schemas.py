"""What the feedback routes take and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from permits.feedback.workflow import Closing, ReportStatus

STRICT = ConfigDict(extra="forbid")


class ReportIn(BaseModel):
    """A report: what, where, and how the reporter is reached (unless signed in)."""

    model_config = STRICT

    category: str = Field(max_length=40)
    description: str | None = Field(default=None, max_length=4000,
                                    description="Needed unless the report joins another")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    parcel_key: str | None = Field(default=None, pattern=r"^\d{12}$")
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=320)
    show_name: bool = Field(default=False, description="The public may see the name "
                            "(the department always sees who reported)")
    joins: int | None = Field(default=None, ge=1, le=2**62, description='A "me too": the '
                              "open report of the same category this adds a voice to")


class ConfirmIn(BaseModel):
    """The one-time code sent to the reporter's phone or e-mail."""

    model_config = STRICT

    code: str = Field(pattern=r"^\s*\d{6}\s*$")


class CategoryPublic(BaseModel):
    """A category, the department it goes to, and how long that has to answer."""

    code: str
    name_vi: str
    name_en: str
    department: str
    response_days: int
    about_parcel: bool
    version: int


class CategoryUpdate(BaseModel):
    """An administrator's change to a category: where it goes, how long that has."""

    model_config = STRICT

    department: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{1,63}$")
    response_days: int | None = Field(default=None, ge=1, le=90,
                                      description="Working days to answer")


class ReportEvent(BaseModel):
    """One public move of a report (the department's answers with their text)."""

    action: str
    to_status: ReportStatus
    at: datetime
    note: str | None = None


class PhotoLink(BaseModel):
    """A photo anyone may see: its copy with faces and number plates blurred."""

    id: int
    url: str


class ReportPublic(BaseModel):
    """What anyone sees of a report: no contact ever; a name only if the reporter allowed it."""

    id: int
    version: int = Field(description="Send its ETag back as If-Match to move the report")
    category: str
    category_vi: str
    category_en: str
    status: ReportStatus
    description: str | None = Field(description="None when moderation hid it")
    hidden: bool
    lon: float
    lat: float
    parcel_key: str | None
    ward_code: str | None
    created_at: datetime
    updated_at: datetime
    due_on: date | None
    late: bool = Field(description="Past its deadline in working days, and not closed")
    closing: Closing | None
    referred_to: str | None
    duplicate_of: int | None
    closed_at: datetime | None
    reporter_name: str | None
    joined: bool = Field(description='A "me too" on the report it duplicates')
    voices: int = Field(description="Me-toos and merged duplicates of this report")
    rating: int | None = Field(description="The reporter's rating of the closing, 1 to 5")
    flood_id: int | None = Field(description="The flood event it belongs to")
    parcel_permit: bool | None = Field(description="On a parcel: whether the parcel has a "
                                       "construction permit")
    events: list[ReportEvent] = Field(default_factory=list)
    photos: list[PhotoLink] = Field(default_factory=list, description="Its photos, faces and "
                                    "number plates blurred (each once its copy is written)")


Move = Literal["assign", "start", "ask", "answer", "close", "reply", "reopen", "rate", "hide",
               "show", "note"]


class ReportAction(BaseModel):
    """One move of a report's table, with what it needs said."""

    model_config = STRICT

    action: Move
    note: str | None = Field(default=None, max_length=4000,
                             description="The answer, the question, the reply, the reason")
    closing: Closing | None = None
    referred_to: str | None = Field(default=None, max_length=300,
                                    description="not_competent: the body it goes to")
    duplicate_of: int | None = Field(default=None, ge=1, le=2**62)
    assignee_id: int | None = Field(default=None, ge=1, le=2**62)
    rating: int | None = Field(default=None, ge=1, le=5, description="rate: 1 to 5")

    def facts(self) -> dict[str, Any]:
        """What the move's guards read (the note is the text of each)."""
        said = {"ask": "question", "reply": "reply", "answer": "answer", "reopen": "reason",
                "hide": "reason"}
        facts: dict[str, Any] = {"closing": self.closing, "referred_to": self.referred_to,
                                 "duplicate_of": self.duplicate_of,
                                 "assignee_id": self.assignee_id, "rating": self.rating}
        if self.action in said:
            facts[said[self.action]] = self.note
        return facts


class ReportSent(BaseModel):
    """A report sent: confirmed at once (signed in), or waiting for its code."""

    id: int
    status: ReportStatus
    needs_code: bool
    upload_token: str | None = Field(default=None, description="Anonymous reporters: send "
                                     "it as X-Report-Token with the report's photos")


class PhotoPublic(BaseModel):
    """A photo kept for a report (written again without its EXIF)."""

    id: int
    sha256: str
    content_type: str
    size_bytes: int
    created_at: datetime


class StaffEvent(BaseModel):
    """Any move of a report, with who made it and who may read it."""

    action: str
    from_status: ReportStatus | None
    to_status: ReportStatus
    at: datetime
    note: str | None
    visibility: str
    detail: dict[str, Any]
    actor_id: int | None
    actor_name: str | None


class Voice(BaseModel):
    """A report joined ("me too") or merged into this one, and who sent it."""

    id: int
    joined: bool
    created_at: datetime
    reporter_id: int | None
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None


class ParcelDossier(BaseModel):
    """A dossier of the reported parcel: what was asked for, where it stands."""

    id: int
    code: str | None
    procedure_id: str
    procedure_vi: str
    status: str
    submitted_at: datetime | None
    due_on: date | None
    floors: str | None = Field(description="Floors the dossier asks for")


class ReportStaff(BaseModel):
    """What the department sees: the reporter, the hidden text, every move, the voices, and
    for a parcel its dossiers and the floors its zoning allows."""

    id: int
    status: ReportStatus
    version: int
    category: str
    department: str
    description: str
    hidden_reason: str | None
    reporter_id: int | None
    reporter_name: str | None
    reporter_phone: str | None
    reporter_email: str | None
    show_name: bool
    contact_removed_at: datetime | None
    assignee_id: int | None
    media_url: str | None
    public: ReportPublic | None
    events: list[StaffEvent]
    voices: list[Voice]
    parcel_dossiers: list[ParcelDossier]
    floors_max: int | None = Field(description="The zoning's most floors on the parcel")


class FloodPublic(BaseModel):
    """A flood event: one day's flood reports in one area (150 m around their places)."""

    id: int
    version: int
    status: Literal["open", "closed"]
    day: date
    ward_code: str | None
    closed_at: datetime | None
    geometry: dict[str, Any]
    reports: int


class FloodAction(BaseModel):
    """Closing a flood event, with a word for everyone who reported it."""

    model_config = STRICT

    action: Literal["close"]
    note: str | None = Field(default=None, max_length=1000)
