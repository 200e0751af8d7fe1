"""Queries behind the parcel card and the look-ups (bound parameters only)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import Connection

from core.reference import LAND_USE_CATALOGUE
from core.sql import positional, sql_file

# Fixed fragments that choose the parcel of the card; never built from user input.
LOCATE_AT_POINT = "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))"
LOCATE_BY_KEY = "parcel_key = %(key)s"
# What the card's "what can be built" counts: besides the governing block, the limits of any
# block holding at least this share of the parcel (%); a widening strip only when it reaches at
# least this deep (m): shallower ones are the survey's and the projections' noise.
BUILDABLE_RULES = {"min_block_share": 10.0, "min_strip_depth_m": 0.2}


@cache
def card_sql(locate: str) -> str:
    """The card query for one of the locator fragments."""
    return sql_file("layers.sql", "parcel_card.sql").replace("{locate}", locate)


def card_params(**locator: object) -> dict[str, object]:
    """Every bound parameter of the card query, with the locator's."""
    return {"catalogue": LAND_USE_CATALOGUE, **BUILDABLE_RULES, **locator}


def card_by_key_in(conn: Connection, key: str) -> str | None:
    """The card JSON of a parcel by key, read in the caller's SQLAlchemy transaction."""
    value = conn.exec_driver_sql(card_sql(LOCATE_BY_KEY), card_params(key=key)).scalar()
    return None if value is None else str(value)


SUMMARY_COLUMNS = """
    p.parcel_key AS key, p.sheet_no AS sheet, p.parcel_no AS number,
    p.area_m2::float8 AS area_m2, p.address,
    ow.name AS ward_old, cw.name AS ward_current,
    ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat
"""
SUMMARY_FROM = """
    FROM parcel p
    JOIN admin_unit ow ON ow.id = p.ward_id
    LEFT JOIN admin_unit cw ON cw.id = p.current_ward_id
"""


Row = Any  # asyncpg.Record: columns by name


class ParcelRepository:
    """Reads parcels and the planning facts over them (pooled asyncpg read connections)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def _scalar(self, sql: str, params: Mapping[str, object]) -> str | None:
        query, names = positional(sql)
        value = await self.conn.fetchval(query, *(params[n] for n in names))
        return None if value is None else str(value)

    async def _all(self, sql: str, params: Mapping[str, object] | None = None) -> list[Row]:
        query, names = positional(sql)
        values = params or {}
        return list(await self.conn.fetch(query, *(values[n] for n in names)))

    async def card_at(self, lon: float, lat: float) -> str | None:
        """The card JSON of the parcel under a point."""
        return await self._scalar(card_sql(LOCATE_AT_POINT), card_params(lon=lon, lat=lat))

    async def card_by_key(self, key: str) -> str | None:
        """The card JSON of a parcel by its key."""
        return await self._scalar(card_sql(LOCATE_BY_KEY), card_params(key=key))

    async def features_at(self, lon: float, lat: float) -> Row | None:
        """What lies at a point when no parcel does: district, road, water."""
        rows = await self._all(
            """
            WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)
            SELECT
              EXISTS (SELECT 1 FROM admin_unit a, pt
                      WHERE a.level = 'ward' AND a.geom IS NOT NULL
                        AND ST_Intersects(a.geom, pt.g)) AS in_district,
              (SELECT r.name FROM road r, pt WHERE ST_Intersects(r.row_geom, pt.g)
               ORDER BY r.right_of_way_m DESC LIMIT 1) AS road,
              (SELECT w.name FROM water_body w, pt WHERE ST_Intersects(w.geom, pt.g)
               LIMIT 1) AS water
            """,
            {"lon": lon, "lat": lat},
        )
        return rows[0] if rows else None

    async def wards(self) -> list[Row]:
        """All wards, old and new."""
        return await self._all(
            "SELECT id, code, name, valid_from, valid_to, verified FROM admin_unit "
            "WHERE level = 'ward' ORDER BY valid_from, code"
        )

    async def find(self, ward_ids: list[int], sheet: int | None, number: int | None,
             limit: int) -> list[Row]:
        """Parcels in any of the wards (as issued or as today), by sheet and number."""
        return await self._all(
            f"SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM}"
            """
            WHERE (p.ward_id = ANY(%(wards)s) OR p.current_ward_id = ANY(%(wards)s))
              AND (%(sheet)s::int IS NULL OR p.sheet_no = %(sheet)s::int)
              AND (%(number)s::int IS NULL OR p.parcel_no = %(number)s::int)
            ORDER BY p.parcel_key
            LIMIT %(limit)s
            """,
            {"wards": ward_ids, "sheet": sheet, "number": number, "limit": limit},
        )

    async def search_addresses(self, needle: str, limit: int) -> list[Row]:
        """Parcels whose address contains the normalised needle."""
        return await self._all(
            f"SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM}"
            """
            WHERE p.address_search LIKE '%%' || %(q)s || '%%'
            ORDER BY similarity(p.address_search, %(q)s) DESC, p.parcel_key
            LIMIT %(limit)s
            """,
            {"q": needle, "limit": limit},
        )

    async def search_streets(self, needle: str, limit: int) -> list[Row]:
        """Streets whose name contains the normalised needle."""
        return await self._all(
            """
            SELECT name, max(right_of_way_m) AS right_of_way_m,
                   ST_XMin(ST_Extent(geom)) AS west, ST_YMin(ST_Extent(geom)) AS south,
                   ST_XMax(ST_Extent(geom)) AS east, ST_YMax(ST_Extent(geom)) AS north
            FROM road
            WHERE name_search LIKE '%%' || %(q)s || '%%'
            GROUP BY name, name_search
            ORDER BY similarity(name_search, %(q)s) DESC, name
            LIMIT %(limit)s
            """,
            {"q": needle, "limit": limit},
        )

    async def land_use_codes(self) -> list[Row]:
        """The land-use codes of the current catalogue, marking those the district uses."""
        return await self._all(
            """
            SELECT c.code, c.name_vi, c.name_en, c.group_code, c.fill_colour,
                   EXISTS (SELECT 1 FROM land_use_zone z WHERE z.code = c.code) AS used
            FROM land_use_code c WHERE c.catalogue = %(catalogue)s ORDER BY c.code
            """,
            {"catalogue": LAND_USE_CATALOGUE},
        )
