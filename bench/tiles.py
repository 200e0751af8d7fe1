"""BENCH tiles: uncached parcel tiles over HTTP vs the same SQL, and the heaviest tile per zoom."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import morecantile
import psycopg

from bench.common import (
    BENCH_DIR,
    bench_database,
    free_port,
    http_caller,
    http_getter,
    log,
    percentile,
    run_clients,
    start_server,
    stop,
)
from tiles.layers import LAYERS
from tiles.repository import layer_sql, tile_params

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
PARCELS = int(os.environ.get("BENCH_TILES_PARCELS", "200000"))
TILES = 600
CLIENTS = 4
WARMUP = 40
WORKERS = int(os.environ.get("BENCH_TILES_WORKERS", "2"))
BUDGET_BYTES = 500 * 1024
BUDGET_MS = 50.0
ZOOM = 17  # parcels of the 200k sample start at 17 (readable_minzoom)
HOT_TILES = 200
BASEMAP_PATH = "/tiles/basemap/{}/{}/{}.mvt"
HOT_ROUNDS = 20
ROUNDS = 3  # each side measured this many times, alternated; the best kept


def _best(rounds: list[tuple[list[float], float]]) -> tuple[list[float], float]:
    """The fastest of alternated rounds: one round of a few seconds swings on 2 shared cores."""
    return min(rounds, key=lambda r: r[1])


def _district_tiles(dsn: str, z: int) -> list[tuple[int, int, int]]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                           "(SELECT ST_Extent(geom) AS e FROM parcel) AS s").fetchone()
    assert row is not None
    return [(t.z, t.x, t.y) for t in WEB_MERCATOR.tiles(*row, zooms=[z])]


def _raw_client(dsn: str) -> Callable[[int, int, int], None]:
    conn = psycopg.connect(dsn, prepare_threshold=2, autocommit=True)
    conn.execute("SET max_parallel_workers_per_gather = 0")
    layer = LAYERS["parcels"]
    sql = layer_sql("parcels")

    def fetch(z: int, x: int, y: int) -> None:
        conn.execute(sql, tile_params(layer, z, x, y)).fetchone()  # type: ignore[arg-type]
    return fetch


def _uncached(cluster_dsn: str, cluster: object) -> None:
    tiles = _district_tiles(cluster_dsn, ZOOM)
    random.Random(7).shuffle(tiles)
    tiles = (tiles * (TILES // len(tiles) + 1))[:TILES]
    proc, port = start_server(cluster, WORKERS,  # type: ignore[arg-type]
                              {"CIVICMAP_TILE_CACHE_SIZE": "0"})
    raw_rounds, http_rounds = [], []
    try:
        for _ in range(ROUNDS):
            raw_rounds.append(run_clients(partial(_raw_client, cluster_dsn), tiles, CLIENTS,
                                          WARMUP))
            http_rounds.append(run_clients(
                partial(http_caller, port, "/tiles/parcels/{}/{}/{}.mvt"), tiles, CLIENTS,
                WARMUP))
    finally:
        stop(proc)
    raw_lat, raw_wall = _best(raw_rounds)
    http_lat, http_wall = _best(http_rounds)
    for name, ours, raw in (
        (f"z{ZOOM}_parcels_tiles_per_s", len(http_lat) / http_wall, len(raw_lat) / raw_wall),
        (f"z{ZOOM}_parcels_p50_ms", percentile(http_lat, 50), percentile(raw_lat, 50)),
    ):
        print(f"BENCH tiles {name} ours={ours:.2f} raw={raw:.2f} parcels={PARCELS} "
              f"clients={CLIENTS} workers={WORKERS} uncached=1 ratio={ours / raw:.2f}",
              flush=True)


def _render_ms(conn: psycopg.Connection[Any], layers: list[Any], z: int, x: int,
               y: int) -> tuple[int, float]:
    size, elapsed = 0, 0.0
    for layer in layers:
        sql = layer_sql(layer.id, z < layer.generalized_below)
        started = time.perf_counter()
        row = conn.execute(sql, tile_params(layer, z, x, y)).fetchone()  # type: ignore[arg-type]
        elapsed += (time.perf_counter() - started) * 1000
        size += len(row[0] or b"") if row else 0
    return size, elapsed


def _heaviest(dsn: str) -> None:
    """Every basemap tile over the district at z12-18: the largest, and the slowest to make.

    The slowest five of a first pass are rendered three more times and keep their best time,
    so that a checkpoint or a scheduler hiccup during one render does not count as the tile's.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET max_parallel_workers_per_gather = 0")
        minzoom = {layer.id: layer.minzoom for layer in LAYERS.values()}
        minzoom.update(conn.execute(
            "SELECT layer, minzoom FROM layer_version WHERE minzoom IS NOT NULL").fetchall())
        for z in range(12, 19):
            layers = [layer for layer in LAYERS.values()
                      if minzoom[layer.id] <= z <= layer.maxzoom]
            first = {(x, y): _render_ms(conn, layers, z, x, y)
                     for _, x, y in _district_tiles(dsn, z)}
            worst_bytes = max(size for size, _ in first.values())
            slowest = sorted(first, key=lambda t: first[t][1], reverse=True)[:5]
            worst_ms = max(min(_render_ms(conn, layers, z, *t)[1] for _ in range(3))
                           for t in slowest)
            ratio = max(worst_bytes / BUDGET_BYTES, worst_ms / BUDGET_MS)
            print(f"BENCH tiles heaviest_basemap z={z} kb={worst_bytes / 1024:.1f} "
                  f"ms={worst_ms:.1f} tiles={len(first)} parcels={PARCELS} budget_kb=500 "
                  f"budget_ms=50 ratio={ratio:.2f}", flush=True)


NGINX_CONF = """
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000;
    types {{ application/vnd.mapbox-vector-tile mvt; }}
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        etag on;
    }}
}}
"""


def _hot(dsn: str, cluster: object) -> None:
    """Hot cached tiles over HTTP against nginx serving the same tile files from disk."""
    if shutil.which("nginx") is None:
        log("tiles: nginx is not installed (apt-get install nginx-light): hot-cache line skipped")
        return
    tiles = _district_tiles(dsn, ZOOM)[:HOT_TILES]
    proc, port = start_server(cluster, WORKERS)  # type: ignore[arg-type]
    root = BENCH_DIR / "nginx"
    shutil.rmtree(root, ignore_errors=True)
    nginx_port = free_port()
    try:
        get = http_getter(port)
        for z, x, y in tiles:  # warm our cache, and write the very same bytes for nginx
            status, body = get(f"/tiles/basemap/{z}/{x}/{y}.mvt")
            assert status == 200
            target = root / "www" / "tiles" / "basemap" / str(z) / str(x) / f"{y}.mvt"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        (root / "nginx.conf").write_text(
            NGINX_CONF.format(workers=WORKERS, root=root, port=nginx_port))
        nginx = subprocess.Popen(["nginx", "-c", str(root / "nginx.conf")])
        try:
            time.sleep(0.5)
            items = tiles * HOT_ROUNDS
            ours_rounds, ngx_rounds = [], []
            for _ in range(ROUNDS):
                ours_rounds.append(run_clients(partial(http_caller, port, BASEMAP_PATH), items,
                                               CLIENTS, WARMUP))
                ngx_rounds.append(run_clients(partial(http_caller, nginx_port, BASEMAP_PATH),
                                              items, CLIENTS, WARMUP))
            ours_lat, ours_wall = _best(ours_rounds)
            ngx_lat, ngx_wall = _best(ngx_rounds)
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    finally:
        stop(proc)
    for name, ours, base in (
        ("hot_cached_tiles_per_s", len(ours_lat) / ours_wall, len(ngx_lat) / ngx_wall),
        ("hot_cached_p50_ms", percentile(ours_lat, 50), percentile(ngx_lat, 50)),
    ):
        print(f"BENCH tiles {name} ours={ours:.2f} nginx={base:.2f} tiles={len(tiles)} "
              f"clients={CLIENTS} workers={WORKERS} ratio={ours / base:.2f}", flush=True)


def main() -> None:
    """Measure and print the BENCH tiles lines."""
    cluster = bench_database(PARCELS)
    dsn = cluster.libpq_dsn()
    log(f"tiles: {PARCELS} parcels")
    _uncached(dsn, cluster)
    _hot(dsn, cluster)
    _heaviest(dsn)


if __name__ == "__main__":
    main()
