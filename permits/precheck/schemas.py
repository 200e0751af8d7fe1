"""API shapes of the pre-check."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

from layers.schemas import Buildable

STRICT = ConfigDict(extra="forbid", strict=True)


class AnswerField(enum.StrEnum):
    """The construction-permit form's fields the pre-check reads."""

    FLOORS = "floors"
    HEIGHT_M = "height_m"
    FOOTPRINT_M2 = "footprint_m2"
    FLOOR_AREA_M2 = "floor_area_m2"


class RuleName(enum.StrEnum):
    """What a planned building is checked against."""

    FLOORS_MAX = "floors_max"
    FLOORS_MIN = "floors_min"
    HEIGHT_MAX_M = "height_max_m"
    FOOTPRINT_MAX_M2 = "footprint_max_m2"
    FLOOR_AREA_MAX_M2 = "floor_area_max_m2"
    WIDENING_STRIP = "widening_strip"  # the footprint fits on the land outside the right-of-way
    PARCEL_AREA = "parcel_area"  # the footprint fits on a parcel no right-of-way takes from


class PrecheckAnswers(BaseModel):
    """The planned building, as the construction-permit form asks it; each field optional."""

    model_config = STRICT

    floors: int | None = Field(None, ge=1, description="Số tầng", examples=[4])
    height_m: float | None = Field(None, gt=0, description="Chiều cao công trình, m",
                                   examples=[15.5])
    footprint_m2: float | None = Field(None, gt=0, description="Diện tích xây dựng tầng 1, m²",
                                       examples=[60])
    floor_area_m2: float | None = Field(None, gt=0, description="Tổng diện tích sàn, m²",
                                        examples=[240])


class PrecheckRequest(BaseModel):
    """A parcel and the building planned on it."""

    model_config = STRICT

    parcel_key: str = Field(pattern=r"^\d{12}$", examples=["274870120345"],
                            description="Ward code (5) + sheet (3) + parcel (4)")
    answers: PrecheckAnswers


class Finding(BaseModel):
    """One way the planned building goes beyond what the parcel allows."""

    field: AnswerField
    rule: RuleName
    limit: int | float = Field(description="The parcel's number")
    value: int | float = Field(description="The applicant's number")
    block_code: str | None = Field(description="The zoning block the limit is from; null for "
                                   "a limit of the land itself")
    decision_no: str | None = Field(description="The decision approving that block's plan")
    message_vi: str = Field(examples=["Số tầng 7 vượt quá tối đa 5 tầng của ô phố II-14 "
                                      "(QĐ số 6692/QĐ-UBND)"])
    message_en: str


class PrecheckPublic(BaseModel):
    """The pre-check's answer: the parcel's limits, what goes beyond them, what was checked."""

    parcel_key: str
    buildable: Buildable
    findings: list[Finding]
    checked: list[RuleName] = Field(description="Rules checked (of the fields answered)")
    unchecked: list[RuleName] = Field(description="Rules of answered fields that could not "
                                      "be checked: the zoning gives no such indicator")
