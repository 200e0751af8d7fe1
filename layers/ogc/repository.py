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
    schema: str = "public"  # layer_data: a version's own table, properties in `props`

    @property
    def versioned(self) -> bool:
        """Whether the features live in a version's table (fid, src_id, props, geom)."""
        return self.schema == "layer_data"

    @property
    def source(self) -> str:
        """The qualified table, with rejected features of a version left out."""
        table = f"{_ident(self.schema)}.{_ident(self.table)}"
        if self.versioned:
            return f"(SELECT * FROM {table} WHERE outcome IS DISTINCT FROM 'rejected')"
        return table

    def props(self) -> str:
        """SQL of a feature's properties."""
        if self.versioned:
            return "t.props"
        hidden = ", ".join(f"'{h}'" for h in (*HIDDEN, self.id_column))
        return f"to_jsonb(t) - ARRAY[{hidden}]"

    def prop(self, name: str) -> str:
        """SQL of one property as text."""
        return f"(t.props->>'{name}')" if self.versioned else f"t.{_ident(name)}::text"

    @property
    def fid(self) -> str:
        """SQL of the feature id."""
        return "t.fid" if self.versioned else f"t.{_ident(self.id_column)}"


def _safe(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a safe identifier: {name!r}")
    return name


def _ident(name: str) -> str:
    return f'"{_safe(name)}"'


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

    async def collections(self, staff: bool = False) -> list[Collection]:
        """Layers with a published version (staff layers too for staff), in catalogue
        order."""
        rows = await self.conn.fetch(
            """
            SELECT l.id, l.title_vi, l.title_en, l.kind, coalesce(l.live_table, v.data_table)
                   AS data_table, l.id_column, l.queryables, v.number,
                   CASE WHEN l.live_table IS NULL THEN 'layer_data' ELSE 'public' END AS schema
            FROM catalogue_layer l
            JOIN catalogue_version v ON v.layer_id = l.id AND v.status = 'published'
            WHERE (l.visibility = 'public' OR $1) AND coalesce(l.live_table, v.data_table)
                  IS NOT NULL
            ORDER BY l.created_at, l.id
            """, staff,
        )
        return [Collection(r["id"], r["title_vi"], r["title_en"], r["kind"], r["data_table"],
                           r["id_column"], tuple(r["queryables"]), r["number"], r["schema"])
                for r in rows]

    async def extent(self, c: Collection) -> list[float] | None:
        """The layer's bounding box in lon/lat, from the planner's statistics when there are."""
        box = await self.conn.fetchrow(
            f"""
            SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (
              SELECT coalesce(ST_EstimatedExtent($1, $2, 'geom')::geometry,
                              (SELECT ST_Extent(geom)::geometry FROM {c.source} t)) AS b
            ) s
            """,
            c.schema, c.table,
        )
        return None if box is None or box[0] is None else [round(float(v), 7) for v in box]

    def _where(self, c: Collection, q: Query, params: list[Any]) -> str:
        parts = ["true"]
        if q.bbox:
            params.extend(q.bbox)
            n = len(params)
            parts.append(f"t.geom && ST_MakeEnvelope(${n - 3}, ${n - 2}, ${n - 1}, ${n}, 4326)")
        for name, value in q.equals.items():
            params.append(value)
            parts.append(f"{c.prop(_safe(name))} = ${len(params)}")
        return " AND ".join(parts)

    async def items(self, c: Collection, q: Query) -> tuple[str, int, int | None]:
        """(features as a JSON array, number returned, number matched when cheap)."""
        params: list[Any] = []
        where = self._where(c, q, params)
        params.extend([q.limit, q.offset])
        features, returned = await self.conn.fetchrow(
            f"""
            SELECT coalesce(json_agg(json_build_object(
                     'type', 'Feature', 'id', s.fid,
                     'geometry', ST_AsGeoJSON(s.geom, 7)::json,
                     'properties', s.props) ORDER BY s.fid), '[]')::text, count(*)
            FROM (
              SELECT {c.fid} AS fid, t.geom, {c.props()} AS props
              FROM {c.source} t WHERE {where}
              ORDER BY {c.fid} LIMIT ${len(params) - 1} OFFSET ${len(params)}
            ) s
            """,
            *params,
        )
        count_params: list[Any] = []
        count_where = self._where(c, q, count_params)
        count_params.append(COUNT_CAP + 1)
        matched = await self.conn.fetchval(
            f"SELECT count(*) FROM (SELECT 1 FROM {c.source} t WHERE {count_where} "
            f"LIMIT ${len(count_params)}) s",
            *count_params,
        )
        return features, int(returned), (int(matched) if matched <= COUNT_CAP else None)

    async def item(self, c: Collection, fid: int) -> str | None:
        """One feature as GeoJSON text, or None."""
        row = await self.conn.fetchval(
            f"""
            SELECT json_build_object('type', 'Feature', 'id', {c.fid},
                     'geometry', ST_AsGeoJSON(t.geom, 7)::json,
                     'properties', {c.props()})::text
            FROM {c.source} t WHERE {c.fid} = $1::bigint
            """,
            fid,
        )
        return str(row) if row is not None else None
