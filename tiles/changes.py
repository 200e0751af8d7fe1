"""What a reload changed, tile layer by tile layer, so only the tiles over it are dropped.

Before the tables are replaced, each layer's features are fingerprinted (Web Mercator outline
plus every attribute its tiles carry); afterwards the features whose fingerprint vanished or
appeared are the change. Reloading the same files changes nothing and keeps every cached tile.
"""

from __future__ import annotations

from typing import Any

import psycopg

from tiles.layers import LAYERS, TileLayer

GENERALIZED_TABLES = {"land_use": "land_use_generalized"}


def _fingerprint(layer: TileLayer, table: str, where: str) -> str:
    values = [layer.feature_id or "NULL", *layer.columns.values()]
    row = ", ".join(f"({v})::text" for v in values)
    return (f"SELECT md5(concat_ws('|', encode(ST_AsEWKB(t.geom_3857), 'hex'), {row})) AS sig, "
            f"t.geom_3857 AS geom FROM {table} AS t WHERE {where}")


def _sources(layer: TileLayer) -> list[tuple[str, str, str]]:
    """(name, table, where) of every table a layer's tiles are drawn from."""
    sources = [(layer.id, layer.table, layer.where)]
    if layer.id in GENERALIZED_TABLES:
        sources.append((f"{layer.id}_gen", GENERALIZED_TABLES[layer.id], "true"))
    return sources


def snapshot(conn: psycopg.Connection[Any]) -> None:
    """Fingerprint every tile layer's features before the planning tables are replaced."""
    for layer in LAYERS.values():
        for name, table, where in _sources(layer):
            conn.execute(f"DROP TABLE IF EXISTS snap_{name}")
            conn.execute(f"CREATE TEMP TABLE snap_{name} ON COMMIT DROP AS "
                         f"{_fingerprint(layer, table, where)}")
            conn.execute(f"CREATE INDEX ON snap_{name} (sig)")


def apply(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """After the reload: drop the cached tiles over what changed and bump those layers.

    Returns the number of changed features per tile layer (layers without change are absent).
    """
    changed: dict[str, int] = {}
    conn.execute("DROP TABLE IF EXISTS tile_change")
    conn.execute("CREATE TEMP TABLE tile_change (layer text, geom geometry) ON COMMIT DROP")
    for layer in LAYERS.values():
        for name, table, where in _sources(layer):
            fresh = _fingerprint(layer, table, where)
            cur = conn.execute(
                f"""
                INSERT INTO tile_change (layer, geom)
                SELECT %(layer)s, geom FROM (
                    WITH fresh AS ({fresh})
                    SELECT s.geom FROM snap_{name} s
                    WHERE NOT EXISTS (SELECT 1 FROM fresh WHERE fresh.sig = s.sig)
                    UNION ALL
                    SELECT fresh.geom FROM fresh
                    WHERE NOT EXISTS (SELECT 1 FROM snap_{name} s WHERE s.sig = fresh.sig)
                ) AS diff
                """,
                {"layer": layer.id},
            )
            if cur.rowcount:
                changed[layer.id] = changed.get(layer.id, 0) + cur.rowcount
    if not changed:
        return changed
    conn.execute("CREATE INDEX ON tile_change USING gist (geom)")
    conn.execute(
        """
        DELETE FROM tile_cache c
        WHERE (c.layer = 'basemap' OR c.layer IN (SELECT DISTINCT layer FROM tile_change))
          AND EXISTS (SELECT 1 FROM tile_change x
                      WHERE (c.layer = 'basemap' OR x.layer = c.layer)
                        AND ST_Intersects(c.envelope, x.geom))
        """
    )
    conn.execute("UPDATE layer_version SET version = version + 1, updated_at = now() "
                 "WHERE layer = ANY(%s)", (sorted(changed),))
    return changed
