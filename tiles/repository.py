"""Tile queries: rendering with ST_AsMVT, layer versions, the tile cache table."""

from __future__ import annotations

from functools import cache
from typing import Any

import asyncpg

from core.reference import LAND_USE_CATALOGUE
from core.sql import positional, sql_file
from tiles.layers import FEEDBACK_URGENCY, LAYERS, LiveLayer, TileLayer

WORLD_M = 40_075_016.685578488  # Web Mercator world width
EXTENT = 4096


@cache
def layer_sql(layer_id: str, generalized: bool = False) -> str:
    """The tile query of one registered layer (from its generalized table when asked)."""
    layer = LAYERS[layer_id]
    columns = ", ".join(f"{expr} AS {name}" for name, expr in layer.columns.items())
    table = layer.generalized_table if generalized else layer.table
    return (sql_file("tiles.sql", "layer_tile.sql")
            .replace("{columns}", columns).replace("{table}", table)
            .replace("{feature_id}", layer.feature_id or "NULL::bigint")
            .replace("{where}", "true" if generalized else layer.where))


def tile_params(layer: TileLayer, z: int, x: int, y: int) -> dict[str, object]:
    """Bound values of a layer's tile query: zoom-dependent simplification and margin."""
    unit = WORLD_M / 2**z / EXTENT  # metres per tile unit at this zoom
    return {"name": layer.id, "fid": "fid" if layer.feature_id else None,
            "z": z, "x": x, "y": y, "simplify": z < 15,
            "tolerance": unit, "margin": 64 * unit}


def live_sql(layer: LiveLayer, z: int) -> str:
    """The tile query of a live layer at a zoom: its clusters below cluster_below, else points."""
    clustered = z < layer.cluster_below
    return sql_file("tiles.sql", f"{layer.id}_{'clusters' if clustered else 'points'}.sql")


def live_params(layer: LiveLayer, z: int, x: int, y: int) -> dict[str, object]:
    """Bound values of a live layer's tile query: the cell size and the buffer's margin."""
    tile_m = WORLD_M / 2**z
    return {"z": z, "x": x, "y": y, "margin": 64 * tile_m / EXTENT,
            "cell": tile_m / layer.cluster_cells, "origin": WORLD_M / 2,
            "urgency": list(FEEDBACK_URGENCY)}


class TileRepository:
    """Reads and caches tiles on an asyncpg connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def _fetchval(self, sql: str, params: dict[str, object]) -> Any:
        query, names = positional(sql)
        return await self.conn.fetchval(query, *(params[n] for n in names))

    async def render(self, layer: TileLayer, z: int, x: int, y: int) -> bytes:
        """The layer's MVT bytes for one tile (empty when nothing is there)."""
        generalized = z < layer.generalized_below
        data = await self._fetchval(layer_sql(layer.id, generalized),
                                    tile_params(layer, z, x, y))
        return bytes(data or b"")

    async def render_live(self, layer: LiveLayer, z: int, x: int, y: int) -> bytes:
        """A live layer's MVT bytes for one tile, from the rows as they are now."""
        data = await self._fetchval(live_sql(layer, z), live_params(layer, z, x, y))
        return bytes(data or b"")

    async def versions(self) -> dict[str, tuple[int, int | None]]:
        """The data version of every tile layer, and its minimum zoom where the data sets it."""
        rows = await self.conn.fetch("SELECT layer, version, minzoom FROM layer_version")
        return {r["layer"]: (int(r["version"]), r["minzoom"]) for r in rows}

    async def bounds(self) -> list[float] | None:
        """[west, south, east, north] of the district (WGS84)."""
        row = await self.conn.fetchrow(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) AS e FROM admin_unit WHERE level = 'ward') AS s"
        )
        return None if row is None or row[0] is None else [float(v) for v in row]

    async def cached(self, layer: str, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """A cached tile and its ETag."""
        row = await self.conn.fetchrow(
            "SELECT data, etag FROM tile_cache WHERE layer = $1 AND z = $2 AND x = $3 "
            "AND y = $4", layer, z, x, y,
        )
        return None if row is None else (bytes(row["data"]), str(row["etag"]))

    async def store(self, layer: str, z: int, x: int, y: int, data: bytes, etag: str) -> None:
        """Keep a rendered tile (the first writer wins when two workers race)."""
        await self.conn.execute(
            "INSERT INTO tile_cache (layer, z, x, y, data, etag, envelope) "
            "VALUES ($1, $2::int, $3::int, $4::int, $5, $6, "
            "ST_TileEnvelope($2::int, $3::int, $4::int)) "
            "ON CONFLICT DO NOTHING", layer, z, x, y, data, etag,
        )

    async def trim(self, keep: int) -> int:
        """Drop the oldest cached tiles beyond `keep`; returns how many went."""
        status = await self.conn.execute(
            "DELETE FROM tile_cache WHERE ctid IN (SELECT ctid FROM tile_cache "
            "ORDER BY used_at DESC OFFSET $1)", keep,
        )
        return int(status.split()[-1])

    async def invalidate(self, layers: list[str], area_wkb: bytes | None) -> int:
        """Drop cached tiles of these layers over the area (all when None); bump versions."""
        status = await self.conn.execute(
            "DELETE FROM tile_cache WHERE layer = ANY($1::text[]) AND ($2::bytea IS NULL OR "
            "ST_Intersects(envelope, ST_Transform(ST_GeomFromWKB($2::bytea, 4326), 3857)))",
            layers, area_wkb,
        )
        await self.conn.execute(
            "UPDATE layer_version SET version = version + 1, updated_at = now() "
            "WHERE layer = ANY($1::text[])", layers,
        )
        return int(status.split()[-1])

    async def land_use_colours(self) -> dict[str, str]:
        """Fill colour of every land-use code (current catalogue)."""
        rows = await self.conn.fetch(
            "SELECT code, fill_colour FROM land_use_code WHERE catalogue = $1",
            LAND_USE_CATALOGUE,
        )
        return {r["code"]: r["fill_colour"] for r in rows}
