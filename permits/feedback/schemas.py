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
    description: str = Field(min_length=3, max_length=4000)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    parcel_key: str | None = Field(default=None, pattern=r"^\d{12}$")
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=320)
    show_name: bool = Field(default=False, description="The public may see the name "
                            "(the department always sees who reported)")


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


class ReportEvent(BaseModel):
    """One public move of a report (the department's answers with their text)."""

    action: str
    to_status: ReportStatus
    at: datetime
    note: str | None = None


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
    events: list[ReportEvent] = Field(default_factory=list)


Move = Literal["assign", "start", "ask", "answer", "close", "reply", "reopen"]


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

    def facts(self) -> dict[str, Any]:
        """What the move's guards read (the note is the text of each)."""
        said = {"ask": "question", "reply": "reply", "answer": "answer", "reopen": "reason"}
        facts: dict[str, Any] = {"closing": self.closing, "referred_to": self.referred_to,
                                 "duplicate_of": self.duplicate_of,
                                 "assignee_id": self.assignee_id}
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
