"""API shapes of the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.workdays import DayKind, SwapKind

STRICT = ConfigDict(extra="forbid")
DepartmentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,63}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class DayPublic(BaseModel):
    """One day that differs from a plain weekday or weekend, and why."""

    date: date
    kind: DayKind
    reason: str | None
    reference: str | None = None


class WorkingDaysPublic(BaseModel):
    """The working days of a window, both ends included."""

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    department: str | None
    working_days: int
    non_working: list[DayPublic]
    working_weekend_days: list[DayPublic]


class DueDatePublic(BaseModel):
    """The due date of something received on `start` with `days` working days."""

    start: date
    days: int
    department: str | None
    received: date = Field(description="The day of receipt as counted: `start`, or the next "
                           "working day when `start` is not one")
    due: date


class SwapCreate(BaseModel):
    """A government swap for one date."""

    model_config = STRICT

    date: date
    kind: SwapKind
    reason: Reason = Field(examples=["Nghỉ bù dịp Tết Nguyên đán"])
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=120)] | None = Field(
        default=None, examples=["Thông báo 6150/TB-BLĐTBXH"])


class SwapPublic(BaseModel):
    """A swap as stored."""

    date: date
    kind: SwapKind
    reason: str
    reference: str | None
    created_at: datetime


class ClosureCreate(BaseModel):
    """A day a department's office is closed."""

    model_config = STRICT

    department: DepartmentCode = Field(examples=["urban-management"])
    date: date
    reason: Reason = Field(examples=["Chuyển trụ sở"])


class ClosurePublic(BaseModel):
    """A closure as stored."""

    id: int
    department: str
    date: date
    reason: str
    created_at: datetime
