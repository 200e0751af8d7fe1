"""API shapes of the parcel card and the look-ups (XPublic family)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class UnitPublic(BaseModel):
    """An administrative unit with its validity."""

    code: str
    name: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    verified: bool | None = Field(None, description="False where the merger data is unverified")


class WardPair(BaseModel):
    """The ward a parcel was issued in and the ward it lies in today (after 1 July 2025)."""

    old: UnitPublic
    current: UnitPublic | None


class ParcelPublic(BaseModel):
    """The parcel itself."""

    id: int = Field(description="Feature id of this parcel in the parcels vector tiles")
    key: str = Field(description="MaThuaDat: ward code (5) + sheet (3) + parcel (4)",
                     examples=["274870120345"])
    sheet: int = Field(description="Số tờ bản đồ / map sheet number")
    number: int = Field(description="Số thửa / parcel number")
    area_m2: float
    address: str | None
    ward: WardPair
    district: UnitPublic | None
    province: UnitPublic | None
    geometry: dict[str, Any] = Field(description="GeoJSON, WGS84")


class PlanRef(BaseModel):
    """The zoning plan a block belongs to and the decision approving it."""

    code: str
    name: str
    scale: str
    decision_no: str = Field(examples=["6692/QĐ-UBND"])
    decision_date: dt.date | None = Field(description="Unknown for a plan made from a zoning "
                                          "file's decision number until its plan is uploaded")
    approving_body: str | None


class ZoningShare(BaseModel):
    """A 1/2000 zoning block (ô phố) over the parcel and its indicators."""

    block_code: str = Field(examples=["II-14"])
    function: str = Field(examples=["Đất nhóm nhà ở hiện hữu"])
    function_category: str = Field(examples=["residential_existing"])
    share_pct: float = Field(description="Share of the parcel's area in this block, %")
    floors_min: int | None
    floors_max: int | None
    height_max_m: float | None
    coverage_max_pct: float | None = Field(description="Mật độ xây dựng tối đa, %")
    far_max: float | None = Field(description="Hệ số sử dụng đất tối đa")
    population: int | None
    block_area_m2: float
    colour: str
    plan: PlanRef


class LandUseShare(BaseModel):
    """A land-use type over the parcel and its share."""

    code: str = Field(examples=["ODT"])
    name_vi: str | None
    name_en: str | None
    colour: str | None
    share_pct: float


class RoadFrontage(BaseModel):
    """A street the parcel fronts: right-of-way (lộ giới) and the side facing it."""

    street: str
    right_of_way_m: float
    side: str = Field(description="Compass side of the parcel facing the street",
                      examples=["N"])
    frontage_m: float


class PlanDecision(BaseModel):
    """A plan or amendment covering the parcel and its approving decision."""

    kind: str = Field(examples=["zoning_1_2000", "detailed_1_500", "local_amendment"])
    name: str
    decision_no: str
    decision_date: dt.date | None
    approving_body: str | None
    share_pct: float


class ServiceRef(BaseModel):
    """A procedure that can be started for this parcel."""

    id: str
    name_vi: str
    name_en: str
    online_level: str
    statutory_days: int


class ZoningLimit(BaseModel):
    """One indicator's limit on the parcel and the block (and its plan's decision) it is from."""

    value: int | float = Field(examples=[5])
    block_code: str = Field(examples=["II-14"])
    decision_no: str = Field(examples=["6692/QĐ-UBND"])


class BlockCount(BaseModel):
    """A zoning block over the parcel and whether its limits count."""

    block_code: str
    share_pct: float
    governing: bool = Field(description="The block with the largest share of the parcel")
    counted: bool = Field(description="Its limits count: the governing block, or a share "
                          "of at least 10 %")


class WideningStrip(BaseModel):
    """The part of the parcel inside a road's planned right-of-way (phần đất trong lộ giới)."""

    street: str
    right_of_way_m: float
    area_m2: float = Field(description="Area of the strip (on the ellipsoid), m²")
    depth_m: float | None = Field(description="How far the strip reaches from the land that "
                                  "stays, m; null when the whole parcel is in the right-of-way")


class Buildable(BaseModel):
    """What can be built on the parcel (có thể xây dựng gì ở đây): limits and areas.

    Each limit is the most restrictive among the counted blocks (the highest minimum, the
    lowest maximum) and names its block; it is null where no counted block gives it.
    """

    governing_block: str | None = Field(description="Code of the block with the largest "
                                        "share; null outside any zoning block")
    spans_blocks: bool = Field(description="The parcel lies on more than one zoning block")
    blocks: list[BlockCount]
    floors_min: ZoningLimit | None = Field(description="Fewest floors (tầng cao tối thiểu)")
    floors_max: ZoningLimit | None = Field(description="Most floors (tầng cao tối đa)")
    height_max_m: ZoningLimit | None = Field(description="Greatest height, m")
    coverage_max_pct: ZoningLimit | None = Field(description="Mật độ xây dựng tối đa, %")
    far_max: ZoningLimit | None = Field(description="Hệ số sử dụng đất tối đa")
    parcel_area_m2: float = Field(description="The parcel's area, as on the card")
    widening: list[WideningStrip] = Field(description="Per road the parcel fronts whose "
                                          "right-of-way takes part of it")
    widening_area_m2: float = Field(description="All strips together (an overlap counted "
                                    "once), m²")
    buildable_area_m2: float = Field(description="Land that remains: parcel area − strips, m²")
    computed_on: Literal["buildable_area_m2"] = Field(
        description="The area the largest footprint and floor area are computed on")
    footprint_max_m2: float | None = Field(description="Largest footprint: remaining land × "
                                           "coverage / 100, m²; null without a coverage")
    floor_area_max_m2: float | None = Field(description="Largest total floor area: remaining "
                                            "land × FAR, m²; null without a FAR")


class ParcelCard(BaseModel):
    """Everything a citizen sees after tapping a parcel."""

    model_config = ConfigDict(json_schema_extra={"description": "Thông tin quy hoạch thửa đất"})

    parcel: ParcelPublic
    zoning: list[ZoningShare]
    land_use: list[LandUseShare]
    road_frontage: list[RoadFrontage]
    plans: list[PlanDecision]
    services: list[ServiceRef]
    buildable: Buildable


class ParcelSummary(BaseModel):
    """A parcel in a list of search results."""

    key: str
    sheet: int
    number: int
    area_m2: float
    address: str | None
    ward_old: str
    ward_current: str | None
    lon: float
    lat: float


class ParcelList(BaseModel):
    """Parcels matching a look-up."""

    count: int
    items: list[ParcelSummary]


class StreetSummary(BaseModel):
    """A street matching a search."""

    name: str
    right_of_way_m: float
    bbox: list[float] = Field(description="[west, south, east, north] in WGS84")


class SearchResult(BaseModel):
    """Addresses and streets matching a free-text search."""

    query: str
    parcels: list[ParcelSummary]
    streets: list[StreetSummary]


class LandUseCodePublic(BaseModel):
    """A land-use type code with its official fill colour (the map legend)."""

    code: str = Field(examples=["ODT"])
    name_vi: str
    name_en: str
    group_code: str
    fill_colour: str
    used: bool = Field(description="Whether the district's land-use plan has this code")
