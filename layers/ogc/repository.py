"""SQL of OGC API – Features: published layers read from their tables, as GeoJSON built by
PostgreSQL. Table and column names come from the catalogue (checked), values are bound."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg

# Columns that are geometry, search helpers or the id: never properties.
HIDDEN = ("geom", "geom_3857", "row_geom", "name_search", "address_search")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Beyond this many matches numberMatched is left out: a count must not scan a big layer.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Collection:
    """A published layer as OGC API – Features serves it."""

    id: str
    title_vi: str
    title_en: str
    kind: str
    table: str
    id_column: str
    queryables: tuple[str, ...]
    version: int


def _ident(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return f'"{name}"'


@dataclass(frozen=True)
class Query:
    """Bound filters of an items request."""

    bbox: tuple[float, float, float, float] | None
    equals: dict[str, str]
    limit: int
    offset: int


class FeatureRepository:
    """Reads collections and features."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def collections(self) -> list[Collection]:
        """Public layers with a published version, in catalogue order."""
        rows = await self.conn.fetch(
            """
            SELECT l.id, l.title_vi, l.title_en, l.kind, coalesce(l.live_table, v.data_table)
                   AS data_table, l.id_column, l.queryables, v.number
            FROM catalogue_layer l
            JOIN catalogue_version v ON v.layer_id = l.id AND v.status = 'published'
            WHERE l.visibility = 'public' AND coalesce(l.live_table, v.data_table) IS NOT NULL
            ORDER BY l.created_at, l.id
            """
        )
        return [Collection(r["id"], r["title_vi"], r["title_en"], r["kind"], r["data_table"],
                           r["id_column"], tuple(r["queryables"]), r["number"]) for r in rows]

    async def extent(self, c: Collection) -> list[float] | None:
        """The layer's bounding box in lon/lat, from the planner's statistics when there are."""
        box = await self.conn.fetchrow(
            f"""
            SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (
              SELECT coalesce(ST_EstimatedExtent('public', $1, 'geom')::geometry,
                              (SELECT ST_Extent(geom)::geometry FROM {_ident(c.table)})) AS b
            ) s
            """,
            c.table,
        )
        return None if box is None or box[0] is None else [round(float(v), 7) for v in box]

    async def columns(self, c: Collection) -> list[str]:
        """The property columns of the layer's table."""
        rows = await self.conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = $1 ORDER BY ordinal_position", c.table)
        return [r[0] for r in rows if r[0] not in HIDDEN and r[0] != c.id_column]

    def _where(self, c: Collection, q: Query, params: list[Any]) -> str:
        parts = ["true"]
        if q.bbox:
            params.extend(q.bbox)
            n = len(params)
            parts.append(f"t.geom && ST_MakeEnvelope(${n - 3}, ${n - 2}, ${n - 1}, ${n}, 4326)")
        for name, value in q.equals.items():
            params.append(value)
            parts.append(f"t.{_ident(name)}::text = ${len(params)}")
        return " AND ".join(parts)

    async def items(self, c: Collection, q: Query) -> tuple[str, int, int | None]:
        """(features as a JSON array, number returned, number matched when cheap)."""
        params: list[Any] = []
        where = self._where(c, q, params)
        hidden = ", ".join(f"'{h}'" for h in (*HIDDEN, c.id_column))
        params.extend([q.limit, q.offset])
        features, returned = await self.conn.fetchrow(
            f"""
            SELECT coalesce(json_agg(json_build_object(
                     'type', 'Feature', 'id', s.fid,
                     'geometry', ST_AsGeoJSON(s.geom, 7)::json,
                     'properties', s.props) ORDER BY s.fid), '[]')::text, count(*)
            FROM (
              SELECT t.{_ident(c.id_column)} AS fid, t.geom,
                     to_jsonb(t) - ARRAY[{hidden}] AS props
              FROM {_ident(c.table)} t WHERE {where}
              ORDER BY t.{_ident(c.id_column)} LIMIT ${len(params) - 1} OFFSET ${len(params)}
            ) s
            """,
            *params,
        )
        count_params: list[Any] = []
        count_where = self._where(c, q, count_params)
        count_params.append(COUNT_CAP + 1)
        matched = await self.conn.fetchval(
            f"SELECT count(*) FROM (SELECT 1 FROM {_ident(c.table)} t WHERE {count_where} "
            f"LIMIT ${len(count_params)}) s",
            *count_params,
        )
        return features, int(returned), (int(matched) if matched <= COUNT_CAP else None)

    async def item(self, c: Collection, fid: int) -> str | None:
        """One feature as GeoJSON text, or None."""
        hidden = ", ".join(f"'{h}'" for h in (*HIDDEN, c.id_column))
        row = await self.conn.fetchval(
            f"""
            SELECT json_build_object('type', 'Feature', 'id', t.{_ident(c.id_column)},
                     'geometry', ST_AsGeoJSON(t.geom, 7)::json,
                     'properties', to_jsonb(t) - ARRAY[{hidden}])::text
            FROM {_ident(c.table)} t WHERE t.{_ident(c.id_column)} = $1
            """,
            fid,
        )
        return str(row) if row is not None else None
