"""API shapes of dossiers: what the applicant sends, what they and staff see, what anyone sees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

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


class DossierStatus(BaseModel):
    """What anyone holding the code may see: status and dates, nothing personal."""

    code: str
    procedure_name_vi: str
    procedure_name_en: str
    status: State
    submitted_at: datetime
    updated_at: datetime
