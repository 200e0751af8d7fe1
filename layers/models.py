"""Tables of the planning facts behind a parcel tap (one CRS per column, EPSG:4326 canonical)."""

from __future__ import annotations

import datetime as dt
import enum

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Computed,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base

WGS84 = 4326
WEB_MERCATOR = 3857


class UnitLevel(enum.StrEnum):
    """Administrative level of a unit."""

    PROVINCE = "province"
    DISTRICT = "district"
    WARD = "ward"


class FunctionCategory(enum.StrEnum):
    """Land function of a 1/2000 zoning block, as a stable code behind the Vietnamese label."""

    RESIDENTIAL_EXISTING = "residential_existing"
    RESIDENTIAL_NEW = "residential_new"
    MIXED_USE = "mixed_use"
    COMMERCIAL = "commercial"
    PUBLIC_FACILITY = "public_facility"
    EDUCATION = "education"
    HEALTH = "health"
    PARK = "park"
    INDUSTRIAL = "industrial"
    TRANSPORT = "transport"
    RELIGIOUS = "religious"


def _geom(kind: str, srid: int = WGS84) -> Geometry:
    return Geometry(kind, srid=srid, spatial_index=False)


def _mercator(kind: str) -> Mapped[object]:
    return mapped_column(
        _geom(kind, WEB_MERCATOR), Computed("ST_Transform(geom, 3857)", persisted=True)
    )


class AdminUnit(Base):
    """A province, district or ward, valid between two dates (wards merged on 2025-07-01)."""

    __tablename__ = "admin_unit"
    __table_args__ = (UniqueConstraint("level", "code", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    verified: Mapped[bool] = mapped_column(default=True)
    geom: Mapped[object | None] = mapped_column(_geom("MULTIPOLYGON"), nullable=True)


class AdminUnitSuccession(Base):
    """Which earlier unit became (part of) which later one, and from when."""

    __tablename__ = "admin_unit_succession"

    old_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    new_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    effective: Mapped[dt.date] = mapped_column(Date)
    verified: Mapped[bool] = mapped_column(default=False)


class LandUseCode(Base):
    """Reference list of land-use type codes, versioned by the circular that defines them."""

    __tablename__ = "land_use_code"

    catalogue: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    group_code: Mapped[str] = mapped_column(String(8))
    fill_colour: Mapped[str] = mapped_column(String(7))


class ZoningPlan(Base):
    """A 1/2000 zoning plan (quy hoạch phân khu) and the decision that approved it."""

    __tablename__ = "zoning_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    scale: Mapped[str] = mapped_column(String(16), default="1/2000")
    decision_no: Mapped[str] = mapped_column(Text)
    # A plan made from a block file's decision number may not know these yet.
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    approving_body: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    extra: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # the file's other fields


class ZoningBlock(Base):
    """A zoning block (ô phố) with its land function and indicators."""

    __tablename__ = "zoning_block"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("zoning_plan.id"))
    block_code: Mapped[str] = mapped_column(String(32))
    function_name: Mapped[str] = mapped_column(Text)
    function_category: Mapped[str] = mapped_column(String(32))
    floors_min: Mapped[int | None] = mapped_column(Integer)
    floors_max: Mapped[int | None] = mapped_column(Integer)
    height_max_m: Mapped[float | None] = mapped_column(Float)
    coverage_max_pct: Mapped[float | None] = mapped_column(Float)
    far_max: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float)
    colour: Mapped[str] = mapped_column(String(7))
    geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    geom_3857: Mapped[object] = _mercator("MULTIPOLYGON")
    extra: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # the file's other fields


class LandUseZone(Base):
    """A zone of the land-use plan with its land-use type code."""

    __tablename__ = "land_use_zone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8))
    area_m2: Mapped[float] = mapped_column(Float)
    geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    geom_3857: Mapped[object] = _mercator("MULTIPOLYGON")
    extra: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # the file's other fields


class LandUsePiece(Base):
    """A land-use zone cut into pieces of at most 16 vertices (derived, for look-ups)."""

    __tablename__ = "land_use_piece"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("land_use_zone.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(8))
    geom: Mapped[object] = mapped_column(_geom("POLYGON"))


class Road(Base):
    """A street: centre line, right-of-way width (lộ giới) and the right-of-way area."""

    __tablename__ = "road"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_search: Mapped[str] = mapped_column(Text)
    right_of_way_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[object] = mapped_column(_geom("MULTILINESTRING"))
    row_geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    geom_3857: Mapped[object] = _mercator("MULTILINESTRING")
    extra: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # the file's other fields


class WaterBody(Base):
    """A river or canal."""

    __tablename__ = "water_body"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    geom_3857: Mapped[object] = _mercator("MULTIPOLYGON")
    extra: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # the file's other fields


class DetailedPlan(Base):
    """A 1/500 detailed plan or a local amendment of a zoning plan."""

    __tablename__ = "detailed_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    decision_no: Mapped[str] = mapped_column(Text)
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    approving_body: Mapped[str] = mapped_column(Text)
    area_m2: Mapped[float] = mapped_column(Float)
    geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    extra: Mapped[dict[str, object] | None] = mapped_column(JSONB)  # the file's other fields


class Parcel(Base):
    """A land parcel (thửa đất), keyed by ward code + sheet + parcel number."""

    __tablename__ = "parcel"
    __table_args__ = (UniqueConstraint("ward_id", "sheet_no", "parcel_no"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_key: Mapped[str] = mapped_column(String(12), unique=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    current_ward_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    sheet_no: Mapped[int] = mapped_column(Integer)
    parcel_no: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Numeric(12, 1))
    address: Mapped[str | None] = mapped_column(Text)
    address_search: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[object] = mapped_column(_geom("MULTIPOLYGON"))
    geom_3857: Mapped[object] = _mercator("MULTIPOLYGON")


class ParcelZoning(Base):
    """Share of a parcel in a zoning block (derived when layers are loaded)."""

    __tablename__ = "parcel_zoning"

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcel.id", ondelete="CASCADE"),
                                           primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("zoning_block.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    share_pct: Mapped[float] = mapped_column(Float)


class ParcelLandUse(Base):
    """Share of a parcel under a land-use code (derived)."""

    __tablename__ = "parcel_land_use"

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcel.id", ondelete="CASCADE"),
                                           primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    share_pct: Mapped[float] = mapped_column(Float)


class ParcelFrontage(Base):
    """A street a parcel fronts: frontage length and the side facing it (derived)."""

    __tablename__ = "parcel_frontage"

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcel.id", ondelete="CASCADE"),
                                           primary_key=True)
    road_id: Mapped[int] = mapped_column(ForeignKey("road.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    frontage_m: Mapped[float] = mapped_column(Float)
    side: Mapped[str] = mapped_column(String(2))


class ParcelDetailedPlan(Base):
    """Share of a parcel in a detailed plan or local amendment (derived)."""

    __tablename__ = "parcel_detailed_plan"

    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcel.id", ondelete="CASCADE"),
                                           primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("detailed_plan.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    share_pct: Mapped[float] = mapped_column(Float)
