"""Reloading the planning set drops only the cached tiles over what changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import morecantile
import pyogrio.raw
import shapely
from sqlalchemy import Connection

from layers.planning_set import LAYER_ORDER, PlanningSetLoader

Z = 18


def _copy(sample_files: dict[str, Path], folder: Path) -> dict[str, Path]:
    files = {}
    for kind in LAYER_ORDER:
        files[kind] = folder / f"{kind}.gpkg"
        shutil.copy(sample_files[kind], files[kind])
    return files


def _move_parcel(path: Path, key: str, metres: float) -> None:
    meta, _, wkb, data = pyogrio.raw.read(path)
    fields = dict(zip(meta["fields"], data, strict=True))
    geoms = shapely.from_wkb(wkb)
    for i in range(len(geoms)):
        if f"{fields['ma_xa'][i]}{int(fields['so_to'][i]):03d}{int(fields['so_thua'][i]):04d}" \
                == key:
            geoms[i] = shapely.affinity.translate(geoms[i], xoff=metres)
    path.unlink()
    pyogrio.raw.write(path, shapely.to_wkb(geoms), list(fields.values()), list(fields),
                      layer="parcels", driver="GPKG", geometry_type=meta["geometry_type"],
                      crs=meta["crs"])


def _cache(conn: Connection, layer: str, x: int, y: int) -> None:
    conn.exec_driver_sql(
        "INSERT INTO tile_cache (layer, z, x, y, data, etag, envelope) VALUES "
        "(%(l)s, %(z)s, %(x)s, %(y)s, 'x', '\"x\"', ST_TileEnvelope(%(z)s, %(x)s, %(y)s))",
        {"l": layer, "z": Z, "x": x, "y": y},
    )


def _cached(conn: Connection) -> set[tuple[str, int, int]]:
    return {(r[0], r[1], r[2]) for r in conn.exec_driver_sql(
        "SELECT layer, x, y FROM tile_cache WHERE z = %(z)s", {"z": Z})}


def _version(conn: Connection, layer: str) -> int:
    return int(conn.exec_driver_sql("SELECT version FROM layer_version WHERE layer = %(l)s",
                                    {"l": layer}).scalar_one())


def test_a_reload_drops_only_the_tiles_over_the_change(
    conn: Connection, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    near_key, near_lon, near_lat, far_lon, far_lat = conn.exec_driver_sql(
        """
        WITH a AS (SELECT parcel_key, geom FROM parcel ORDER BY parcel_key LIMIT 1 OFFSET 500)
        SELECT a.parcel_key, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom)),
               ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))
        FROM a, LATERAL (SELECT geom FROM parcel ORDER BY ST_Distance(geom, a.geom) DESC
                         LIMIT 1) AS b
        """
    ).one()
    tms = morecantile.tms.get("WebMercatorQuad")
    near, far = tms.tile(near_lon, near_lat, Z), tms.tile(far_lon, far_lat, Z)
    for layer in ("parcels", "basemap", "zoning_blocks"):
        for tile in (near, far):
            _cache(conn, layer, tile.x, tile.y)
    before = _cached(conn)
    parcels_v, zoning_v = _version(conn, "parcels"), _version(conn, "zoning_blocks")
    raw = conn.connection.driver_connection

    same = PlanningSetLoader(raw)
    same.load(_copy(sample_files, tmp_path), replace=True)
    assert same.tile_changes == {}
    assert _cached(conn) == before
    assert _version(conn, "parcels") == parcels_v

    moved_dir = tmp_path / "moved"
    moved_dir.mkdir()
    files = _copy(sample_files, moved_dir)
    _move_parcel(files["parcels"], str(near_key), 3.0)
    moved = PlanningSetLoader(raw)
    moved.load(files, replace=True)
    assert moved.tile_changes == {"parcels": 2}  # the outline that left and the one that came
    assert _cached(conn) == before - {("parcels", near.x, near.y), ("basemap", near.x, near.y)}
    assert _version(conn, "parcels") == parcels_v + 1
    assert _version(conn, "zoning_blocks") == zoning_v
