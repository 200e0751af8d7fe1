"""BENCH raster: COG tiles through our catalogue route vs rio-tiler's bare reader, same tiles."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import morecantile
import numpy as np
import psycopg
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles
from rio_tiler.io import Reader

from bench.common import (
    bench_database,
    http_caller,
    log,
    percentile,
    run_clients,
    start_server,
    stop,
)
from core.settings import PROJECT_ROOT
from tiles.raster import GDAL_ENV

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
PARCELS = int(os.environ.get("BENCH_TAP_PARCELS", "200000"))
SIZE = 4096  # pixels a side, 0.5 m each: a 2 km orthophoto
ORIGIN = (604000.0, 1188500.0)  # VN-2000 TM-3 105-45, north-west corner
ZOOM = 17
CLIENTS = 4
WARMUP = 20
WORKERS = 2
ROUNDS = 3
LAYER_ID = "bench-ortho"
TILE_PATH = f"/raster/{LAYER_ID}/tiles/WebMercatorQuad/{{}}/{{}}/{{}}.png"
VN2000 = ("+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 "
          "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,"
          "0.00427372,0.252906278 +units=m +no_defs")


def _make_cog(path: Path) -> None:
    if path.exists():
        return
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    data = np.stack([((xx // 64 + yy // 64) % 2 * 80 + rng.integers(0, 120, (SIZE, SIZE)))
                     .astype(np.uint8) for _ in range(3)])
    profile = {"driver": "GTiff", "dtype": "uint8", "count": 3, "width": SIZE, "height": SIZE,
               "crs": VN2000, "transform": from_origin(*ORIGIN, 0.5, 0.5)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(data)
        with mem.open() as src:
            cog_translate(src, str(path), cog_profiles.get("deflate"), quiet=True)


def _tiles(path: Path) -> list[tuple[int, int, int]]:
    """The z17 tiles wholly inside the raster."""
    with Reader(str(path)) as src:
        west, south, east, north = src.get_geographic_bounds(src.tms.rasterio_geographic_crs)
    inside = list(WEB_MERCATOR.tiles(west, south, east, north, zooms=[ZOOM]))
    xs, ys = {t.x for t in inside}, {t.y for t in inside}
    return [(t.z, t.x, t.y) for t in inside
            if min(xs) < t.x < max(xs) and min(ys) < t.y < max(ys)]


def _bare(path: Path) -> Callable[[int, int, int], None]:
    def fetch(z: int, x: int, y: int) -> None:
        import rasterio

        with rasterio.Env(**GDAL_ENV), Reader(str(path)) as src:
            src.tile(x, y, z).render(img_format="PNG")
    return fetch


def main() -> None:
    """Measure and print the BENCH raster lines."""
    cluster = bench_database(PARCELS)
    path = PROJECT_ROOT / "var" / "rasters" / f"{LAYER_ID}.tif"
    _make_cog(path)
    with psycopg.connect(cluster.libpq_dsn(), autocommit=True) as conn:
        conn.execute("INSERT INTO raster_layer (id, title, file) VALUES (%s, %s, %s) "
                     "ON CONFLICT (id) DO NOTHING", (LAYER_ID, "Bench orthophoto", path.name))
    tiles = _tiles(path)
    log(f"raster: {len(tiles)} z{ZOOM} tiles of a {SIZE}x{SIZE} COG, {ROUNDS} alternated rounds")
    proc, port = start_server(cluster, WORKERS)
    bare_rounds, our_rounds = [], []
    try:
        for _ in range(ROUNDS):  # alternated, best kept: a few seconds each, noisy on 2 cores
            bare_rounds.append(run_clients(partial(_bare, path), tiles, CLIENTS, WARMUP))
            our_rounds.append(run_clients(partial(http_caller, port, TILE_PATH), tiles,
                                          CLIENTS, WARMUP))
    finally:
        stop(proc)
    bare_lat, bare_wall = min(bare_rounds, key=lambda r: r[1])
    ours_lat, ours_wall = min(our_rounds, key=lambda r: r[1])
    for name, ours, bare in (
        ("cog_tiles_per_s", len(ours_lat) / ours_wall, len(bare_lat) / bare_wall),
        ("cog_p50_ms", percentile(ours_lat, 50), percentile(bare_lat, 50)),
    ):
        print(f"BENCH raster {name} ours={ours:.2f} bare_reader={bare:.2f} tiles={len(tiles)} "
              f"zoom={ZOOM} clients={CLIENTS} workers={WORKERS} ratio={ours / bare:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
