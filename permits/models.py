"""Tables of the public-service catalogue."""

from __future__ import annotations

import enum

from sqlalchemy import Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class OnlineLevel(enum.StrEnum):
    """How much of a procedure is online (Decree 42/2022)."""

    FULL = "full"  # toàn trình
    PARTIAL = "partial"  # một phần


class Procedure(Base):
    """An administrative procedure a citizen can start, and where it applies."""

    __tablename__ = "procedure"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    online_level: Mapped[str] = mapped_column(String(16))
    statutory_days: Mapped[int] = mapped_column(Integer)
    fee_vnd: Mapped[int | None] = mapped_column(Integer)
    fee_verified: Mapped[bool] = mapped_column(default=False)
    # Zoning function categories on which a parcel qualifies; empty means everywhere.
    applies_to: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    documents: Mapped[list[dict[str, object]]] = mapped_column(JSONB)
    # The catalogue's facts (migration 0023): administrators keep them, each change audited.
    national_code: Mapped[str | None] = mapped_column(String(32))
    field: Mapped[str] = mapped_column(String(32))
    day_kind: Mapped[str] = mapped_column(String(8))  # working | calendar
    fee_basis: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(8))  # ward | city
    form_schema: Mapped[dict[str, object]] = mapped_column(JSONB)
    applies_to_land_use: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    unverified: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    name_search: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
