"""Ingest of a parcel GeoPackage in VN-2000: our path end to end against ogr2ogr, one run.

Ours: read in batches, reproject through EPSG:6960, check every feature, COPY into the
version's table, repair with PostGIS, index, compare with the published version, publish.
The baseline: `ogr2ogr -f PostgreSQL` with a GiST index (reprojecting with PROJ's own pick).
Each runs as a child process so that its peak memory is its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from bench.common import BENCH_DIR, bench_database, log
from core.workflow import SYSTEM, create
from layers.catalogue.workflow import JOB

PARCELS = int(os.environ.get("CIVICMAP_BENCH_ETL_PARCELS", "1000000"))
LAYER = "bench_parcels"
ROUNDS = int(os.environ.get("CIVICMAP_BENCH_ETL_ROUNDS", "2"))
PROCESSES = int(os.environ.get("CIVICMAP_BENCH_ETL_PROCESSES", str(min(2, os.cpu_count() or 1))))


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (shared pages counted in each:
    an upper bound)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    pages = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                pages += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(args: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB of the process tree, sampled) of a child process; fails
    loudly when it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        assert proc.stderr is not None
        raise RuntimeError(f"{args[0]} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, peak


def _job(dsn: str, source: Path, work: Path) -> tuple[int, str]:
    """A fresh layer and a queued job for the file (as an upload would make them)."""
    digest = hashlib.sha256()
    with open(source, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    layer = f"{LAYER}_{int(time.time())}"
    target = work / layer / source.name  # as an upload is kept: uploads/<its own folder>/file
    target.parent.mkdir()
    shutil.copyfile(source, target)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Earlier runs' tables go (their catalogue rows stay: the history is append-only).
        for (table,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'layer_data' "
                "AND tablename LIKE %s", (f"{LAYER}_%",)).fetchall():
            conn.execute(f'DROP TABLE layer_data."{table}"')
        conn.execute("INSERT INTO catalogue_layer (id, kind, title_vi, title_en, schema) VALUES "
                     "(%s, 'free', 'Thửa đất (đo)', 'Parcels (bench)', %s)",
                     (layer, Jsonb([{"name": "ma_thua", "key": True}])))
        with conn.transaction():  # the engine's setting holds for one transaction
            job = create(conn, JOB, "upload", SYSTEM, {
                "layer_id": layer, "source_name": source.name, "source_path": str(target),
                "source_sha256": digest.hexdigest(), "publish": True}).row_id
    return job, layer


def _ours(dsn: str, source: Path, work: Path) -> tuple[float, float]:
    """One ingest of the file by our path, in a child process, to a published version."""
    job_id, layer = _job(dsn, source, work)
    code = (f"from layers.catalogue.ingest import Ingest; from pathlib import Path; "
            f"o = Ingest({dsn!r}, Path({str(work)!r}), processes={PROCESSES}).run({job_id}); "
            f"import sys; print(o.status, o.message, file=sys.stderr); "
            f"sys.exit(0 if o.status == 'succeeded' else 1)")
    result = _child([sys.executable, "-c", code])
    with psycopg.connect(dsn) as conn:
        status = conn.execute("SELECT status, feature_count FROM catalogue_version WHERE "
                              "layer_id = %s ORDER BY number DESC LIMIT 1", (layer,)).fetchone()
    if status is None or status[0] != "published":
        raise RuntimeError(f"our ingest did not publish: {status}")
    return result


def _ogr2ogr(dsn: str, source: Path) -> tuple[float, float]:
    """One load of the file by ogr2ogr into a fresh table with a GiST index."""
    result = _child([
        "ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}",
        str(source), "parcels", "-nln", "bench_ogr_parcels", "-overwrite",
        "-t_srs", "EPSG:4326", "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST",
        "-gt", "65536", "--config", "PG_USE_COPY", "YES"])
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ogr_parcels")
    return result


def main() -> None:
    """Print the BENCH etl lines."""
    cluster = bench_database(1_000_000 if PARCELS > 200_000 else 200_000)
    dsn = cluster.libpq_dsn()
    source = BENCH_DIR / f"sample-{1_000_000 if PARCELS > 200_000 else 200_000}" / "parcels.gpkg"
    work = BENCH_DIR / "etl-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM parcel").fetchone()
    rows = int(row[0]) if row else 0

    ours_runs: list[tuple[float, float]] = []
    ogr_runs: list[tuple[float, float]] = []
    for round_ in range(1, ROUNDS + 1):  # alternated, so that both meet the same machine
        ours_runs.append(_ours(dsn, source, work))
        log(f"round {round_}: ours {ours_runs[-1][0]:.1f} s, {ours_runs[-1][1]:.0f} MB")
        ogr_runs.append(_ogr2ogr(dsn, source))
        log(f"round {round_}: ogr2ogr {ogr_runs[-1][0]:.1f} s, {ogr_runs[-1][1]:.0f} MB")
    ours_s, ogr_s = min(r[0] for r in ours_runs), min(r[0] for r in ogr_runs)
    ours_mb, ogr_mb = max(r[1] for r in ours_runs), max(r[1] for r in ogr_runs)

    ours_rate, ogr_rate = rows / ours_s, rows / ogr_s
    common = f"rows={rows} rounds={ROUNDS} processes={PROCESSES}"
    print(f"BENCH etl rows_per_s ours={ours_rate:.0f} ogr2ogr={ogr_rate:.0f} {common} "
          f"ratio={ours_rate / ogr_rate:.2f}")
    print(f"BENCH etl seconds ours={ours_s:.1f} ogr2ogr={ogr_s:.1f} {common} "
          f"ratio={ours_s / ogr_s:.2f}")
    # Of the whole process tree (our worker processes included), sampled every 50 ms.
    print(f"BENCH etl peak_rss_mb ours={ours_mb:.0f} ogr2ogr={ogr_mb:.0f} {common} "
          f"ratio={ours_mb / ogr_mb:.2f}")


if __name__ == "__main__":
    main()
