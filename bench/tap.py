"""BENCH tap: the parcel card over HTTP against the same card SQL straight through psycopg."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Callable
from functools import partial

import psycopg

from bench.common import (
    bench_database,
    http_caller,
    log,
    percentile,
    run_clients,
    start_server,
    stop,
)
from layers.repository import LOCATE_AT_POINT, card_params, card_sql

PARCELS = int(os.environ.get("BENCH_TAP_PARCELS", "200000"))
POINTS = 2000
CLIENTS = 4
WARMUP = 100
WORKERS = int(os.environ.get("BENCH_TAP_WORKERS", "2"))
CARD_PATH = "/api/parcels/at?lon={0!r}&lat={1!r}"


def _points(dsn: str) -> list[tuple[float, float]]:
    """Random points inside random parcels (fixed seed, so every run taps the same places)."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT setseed(0.7)")
        rows = conn.execute(
            """
            SELECT ST_X(pt), ST_Y(pt) FROM (
              SELECT (ST_Dump(ST_GeneratePoints(geom, 1, 7))).geom AS pt
              FROM parcel ORDER BY random() LIMIT %s) AS s
            """,
            (POINTS,),
        ).fetchall()
    return [(float(x), float(y)) for x, y in rows]


def _raw_client(dsn: str) -> Callable[[float, float], None]:
    conn = psycopg.connect(dsn, prepare_threshold=2)
    conn.execute("SET max_parallel_workers_per_gather = 0")
    sql = card_sql(LOCATE_AT_POINT)

    def tap(lon: float, lat: float) -> None:
        row = conn.execute(
            sql, card_params(lon=lon, lat=lat)  # type: ignore[arg-type]
        ).fetchone()
        conn.commit()
        assert row is not None
    return tap


def main() -> None:
    """Measure both paths in one run and print the BENCH lines."""
    cluster = bench_database(PARCELS)
    dsn = cluster.libpq_dsn()
    points = _points(dsn)
    # Sanity: both paths answer the same card for the first point.
    raw_card = psycopg.connect(dsn).execute(
        card_sql(LOCATE_AT_POINT),  # type: ignore[arg-type]
        card_params(lon=points[0][0], lat=points[0][1]),
    ).fetchone()
    log(f"tap: {len(points)} points on {PARCELS} parcels, {CLIENTS} clients, "
        f"{WORKERS} server workers")
    raw_lat, raw_wall = run_clients(partial(_raw_client, dsn), points, CLIENTS, WARMUP)
    proc, port = start_server(cluster, WORKERS)
    try:
        probe = http.client.HTTPConnection("127.0.0.1", port)
        probe.request("GET", f"/api/parcels/at?lon={points[0][0]!r}&lat={points[0][1]!r}")
        assert raw_card is not None
        assert json.loads(probe.getresponse().read()) == json.loads(raw_card[0])
        http_lat, http_wall = run_clients(partial(http_caller, port, CARD_PATH), points,
                                          CLIENTS, WARMUP)
    finally:
        stop(proc)
    figures = {
        "p50_ms": (percentile(http_lat, 50), percentile(raw_lat, 50)),
        "p99_ms": (percentile(http_lat, 99), percentile(raw_lat, 99)),
        "cards_per_s": (len(http_lat) / http_wall, len(raw_lat) / raw_wall),
    }
    for name, (ours, raw) in figures.items():
        print(f"BENCH tap {name} ours={ours:.2f} raw={raw:.2f} parcels={PARCELS} "
              f"clients={CLIENTS} workers={WORKERS} ratio={ours / raw:.2f}", flush=True)


if __name__ == "__main__":
    main()
