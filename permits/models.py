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
