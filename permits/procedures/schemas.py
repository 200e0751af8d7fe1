"""API shapes of the procedure catalogue."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

STRICT = ConfigDict(extra="forbid")


class ProcedureField(enum.StrEnum):
    """The fields of the district's figures."""

    CONSTRUCTION = "construction"
    HOUSEHOLD_BUSINESS = "household_business"
    LABOUR = "labour"


class OnlineLevel(enum.StrEnum):
    """Decree 42/2022: every step online (toàn trình), or at least one in person (một phần)."""

    FULL = "full"
    PARTIAL = "partial"


class DayKind(enum.StrEnum):
    """How the statutory time is counted."""

    WORKING = "working"
    CALENDAR = "calendar"


class Level(enum.StrEnum):
    """Who handles it since 1 July 2025: the ward People's Committee or a city department."""

    WARD = "ward"
    CITY = "city"


class DocumentSpec(BaseModel):
    """A document the dossier carries."""

    model_config = STRICT

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    vi: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)
    mandatory: bool = True
    types: list[str] = Field(min_length=1, max_length=10,
                             examples=[["application/pdf", "image/jpeg"]])
    max_mb: int = Field(ge=1, le=100)
    template: str | None = Field(default=None, max_length=200,
                                 description="A blank form to download, where there is one")
    verified: bool = True


class ProcedureSummary(BaseModel):
    """A procedure in the catalogue's list."""

    id: str
    name_vi: str
    name_en: str
    field: ProcedureField
    online_level: OnlineLevel
    statutory_days: int
    day_kind: DayKind
    fee_vnd: int | None
    level: Level


class ProcedurePublic(ProcedureSummary):
    """A procedure, whole: its documents, its form and where it applies."""

    national_code: str | None
    fee_basis: str | None
    department: str | None
    documents: list[DocumentSpec]
    form_schema: dict[str, Any] = Field(description="The form as a JSON Schema")
    applies_to: list[str] = Field(description="Zoning function categories; empty: everywhere")
    applies_to_land_use: list[str] = Field(description="Land-use codes; empty: everywhere")
    unverified: list[str] = Field(description="Facts not verified against the law yet")
    version: int = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def etag(self) -> str:
        """What an administrator sends back as If-Match to change it."""
        return f'"procedure-{self.id}-v{self.version}"'


class ProcedureUpdate(BaseModel):
    """An administrator's change: only the facts given change."""

    model_config = STRICT

    name_vi: str | None = Field(default=None, min_length=1, max_length=300)
    name_en: str | None = Field(default=None, min_length=1, max_length=300)
    national_code: str | None = Field(default=None, max_length=32)
    field: ProcedureField | None = None
    online_level: OnlineLevel | None = None
    statutory_days: int | None = Field(default=None, ge=1, le=365)
    day_kind: DayKind | None = None
    fee_vnd: int | None = Field(default=None, ge=0, le=100_000_000)
    fee_basis: str | None = Field(default=None, max_length=500)
    department: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{1,63}$")
    level: Level | None = None
    documents: list[DocumentSpec] | None = Field(default=None, max_length=30)
    form_schema: dict[str, Any] | None = None
    applies_to: list[str] | None = Field(default=None, max_length=20)
    applies_to_land_use: list[str] | None = Field(default=None, max_length=40)
    unverified: list[str] | None = Field(default=None, max_length=20)
