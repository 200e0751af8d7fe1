"""What the office routes take and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

STRICT = ConfigDict(extra="forbid")
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
