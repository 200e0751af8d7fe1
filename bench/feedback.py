"""BENCH feedback: citizens' reports with a 2 MB photo each over HTTP (the report, then its
photo: the engine, the rate limits, the photo decoded whole at an eighth of its size and
written without its metadata) against the same rows and file written by plain SQL and a file
write, and beside them the same two requests to a bare app that checks nothing
(bench/bare_upload.py: HTTP's and multipart's floor on this machine); and the public reports
tile (always rendered: it is never cached) against its raw ST_AsMVT query. Rounds rotate the
sides in the same run; the medians (submissions) and the best rounds (tiles) are printed."""

from __future__ import annotations

import io
import json
import os
import random
import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import morecantile
import psycopg
from PIL import Image

from accounts.service import AccountService
from bench.common import (
    BENCH_DIR,
    bench_database,
    http_caller,
    keep_file,
    log,
    percentile,
    run_clients,
    start_bare,
    start_server,
    stop,
)
from bench.dossiers import Http
from core.db import make_engine
from core.notify import OutboxNotifier
from core.pgcluster import PostgresCluster
from core.workflow import ENGINE_SETTING
from permits.documents import sniff
from tiles.layers import FEEDBACK
from tiles.repository import live_params, live_sql

# The reports layer needs the wards, not many parcels: the tests' sample size will do.
PARCELS = int(os.environ.get("BENCH_FEEDBACK_PARCELS", "20000"))
CLIENTS = int(os.environ.get("BENCH_FEEDBACK_CLIENTS", "4"))
PER_ROUND = int(os.environ.get("BENCH_FEEDBACK_SUBMISSIONS", "32"))
ROUNDS = int(os.environ.get("BENCH_FEEDBACK_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_FEEDBACK_WORKERS", "2"))
SEEDED = int(os.environ.get("BENCH_FEEDBACK_REPORTS", "6000"))
PHOTO_BYTES = 2 * 1024 * 1024
TILES = 400
WARMUP = 40
CATEGORY = "roads"
SEED_NOTE = "bench: a seeded report"
FILES_RAW = BENCH_DIR / "feedback-files-raw"
FILES_BARE = BENCH_DIR / "feedback-files-bare"
WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
PUBLIC = ("received", "assigned", "in_progress", "question", "answered", "closed")
# How often each status is seen on a district's map (most are closed), and a few that never
# are: not yet confirmed, expired, a "me too" joined to its original.
WEIGHTS = (12, 6, 10, 3, 8, 50)


def _photo(side: int) -> bytes:
    """A JPEG of noise (no two alike), `side` pixels square."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        out, "JPEG", quality=90)
    return out.getvalue()


def _photo_side() -> int:
    """The side of a noise JPEG of about PHOTO_BYTES (noise compresses the same everywhere)."""
    side = 1500
    for _ in range(2):
        side = round(side * (PHOTO_BYTES / len(_photo(side))) ** 0.5)
    return side


def _places(dsn: str, n: int) -> list[tuple[float, float, str]]:
    """n random places inside the district's current wards, with their ward."""
    with psycopg.connect(dsn) as conn:
        return [(float(r[0]), float(r[1]), str(r[2])) for r in conn.execute(
            "SELECT ST_X(p.geom), ST_Y(p.geom), w.code FROM (SELECT (ST_Dump(ST_GeneratePoints("
            "ST_Union(geom), %s, 7))).geom FROM admin_unit WHERE level = 'ward' "
            "AND valid_to IS NULL) AS p JOIN admin_unit w ON w.level = 'ward' "
            "AND w.valid_to IS NULL AND ST_Intersects(w.geom, p.geom)", (n,))]


def _setup(cluster: PostgresCluster) -> tuple[list[dict[str, str]], str]:
    """Citizens signed in (one per client) and the department of the category."""
    engine = make_engine(cluster.sqlalchemy_url(), pool_size=1, max_overflow=0)
    citizens = []
    with engine.begin() as db:
        service = AccountService(db, OutboxNotifier(db), b"k" * 32)
        for _ in range(CLIENTS):
            phone = "+8498" + "".join(secrets.choice("0123456789") for _ in range(7))
            person = int(db.exec_driver_sql(
                "INSERT INTO person (phone, password_hash, display_name, verified_at) "
                "VALUES (%(p)s, 'x', 'Người Phản Ánh', now()) RETURNING id",
                {"p": phone}).scalar_one())
            db.exec_driver_sql("INSERT INTO role_grant (person_id, role) "
                               "VALUES (%(p)s, 'citizen')", {"p": person})
            session = service._new_session(person)
            citizens.append({"cookie": session.token, "csrf": session.csrf_token,
                             "person": str(person)})
        department = str(db.exec_driver_sql(
            "SELECT department FROM feedback_category WHERE code = %(c)s",
            {"c": CATEGORY}).scalar_one())
    engine.dispose()
    return citizens, department


def _seed_reports(dsn: str) -> int:
    """Thousands of reports over the district for the tile (once: kept with the database)."""
    with psycopg.connect(dsn) as conn:
        have = conn.execute("SELECT count(*) FROM feedback_report WHERE description = %s",
                            (SEED_NOTE,)).fetchone()
        if have and have[0] >= SEEDED:
            return int(have[0])
        categories = [(str(r[0]), str(r[1])) for r in conn.execute(
            "SELECT code, department FROM feedback_category")]
        rng = random.Random(17)
        rows = []
        for lon, lat, ward in _places(dsn, SEEDED):
            code, department = rng.choice(categories)
            hidden = rng.random()
            status = ("unconfirmed" if hidden < 0.03 else "expired" if hidden < 0.05
                      else rng.choices(PUBLIC, WEIGHTS)[0])
            joined = status == "closed" and rng.random() < 0.1
            due = f"{rng.randint(-30, 20)} days"
            rows.append((code, status, f"SRID=4326;POINT({lon} {lat})", ward, department,
                         rng.random() < 0.3, due, joined,
                         "duplicate" if joined else "fixed" if status == "closed" else None))
        with conn.transaction():
            conn.execute("SELECT set_config(%s, 'feedback_report', true)", (ENGINE_SETTING,))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO feedback_report (category, status, description, geom, "
                    "ward_code, department, reporter_name, reporter_phone, show_name, due_on, "
                    "joined, closing, closed_at, confirmed_at) VALUES (%s, %s, %s, "
                    "ST_GeomFromEWKT(%s), %s, %s, 'Người Đo', '+84900000000', %s, "
                    "current_date + %s::interval, %s, %s, CASE WHEN %s::text IS NULL THEN NULL "
                    "ELSE now() END, now())",
                    [(c, s, SEED_NOTE, g, w, d, show, due, j, closing, closing)
                     for c, s, g, w, d, show, due, j, closing in rows])
        conn.execute("ANALYZE feedback_report")
        return len(rows)


def _address() -> str:
    """Another citizen's address each time (the server trusts the loopback's
    X-Forwarded-For): the per-address limit on reports is a citizen's, not the bench's."""
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"anh.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _our_submitter(port: int, citizens: list[dict[str, str]],
                   places: list[tuple[float, float, str]],
                   timings: list[tuple[float, float]] | None = None
                   ) -> Callable[[int, bytes], None]:
    """What the web app sends: the report (signed in: received at once), then its photo."""
    clients: dict[int, Http] = {}

    def submit(slot: int, photo: bytes) -> None:
        client = clients.setdefault(slot % len(citizens),
                                    Http(port, citizens[slot % len(citizens)]))
        lon, lat, _ = places[slot % len(places)]
        started = time.perf_counter()
        status, _, body = client.json("POST", "/api/feedback", {
            "category": CATEGORY, "description": "Ổ gà sâu giữa đường, xe máy dễ ngã",
            "lon": lon, "lat": lat, "show_name": False},
            **{"Idempotency-Key": secrets.token_hex(16), "X-Forwarded-For": _address()})
        assert status == 201, body[:300]
        report = json.loads(body)["id"]
        sent = time.perf_counter()
        data, boundary = _multipart(photo)
        status, _, body = client.send(
            "POST", f"/api/feedback/{report}/photos", data,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 201, body[:300]
        if timings is not None:
            timings.append(((sent - started) * 1000, (time.perf_counter() - sent) * 1000))
    return submit


def _raw_submitter(dsn: str, citizens: list[dict[str, str]],
                   places: list[tuple[float, float, str]], department: str
                   ) -> Callable[[int, bytes], None]:
    """The same rows and file: the report and its two events (sent, received), the photo's
    file (fsynced, renamed into place) and its row."""
    conn = psycopg.connect(dsn)
    FILES_RAW.mkdir(parents=True, exist_ok=True)

    def submit(slot: int, photo: bytes) -> None:
        reporter = int(citizens[slot % len(citizens)]["person"])
        lon, lat, ward = places[slot % len(places)]
        with conn.transaction():
            conn.execute("SELECT set_config(%s, 'feedback_report', true)", (ENGINE_SETTING,))
            row = conn.execute(
                "INSERT INTO feedback_report (category, status, description, geom, ward_code, "
                "department, reporter_id, show_name) VALUES (%s, 'unconfirmed', %s, "
                "ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, false) RETURNING id",
                (CATEGORY, "Ổ gà sâu giữa đường, xe máy dễ ngã", lon, lat, ward, department,
                 reporter)).fetchone()
            assert row is not None
            report = row[0]
            conn.execute("INSERT INTO feedback_event (report_id, actor_id, action, to_status, "
                         "visibility) VALUES (%s, %s, 'send', 'unconfirmed', 'staff')",
                         (report, reporter))
            conn.execute("SELECT set_config(%s, 'feedback_report', true)", (ENGINE_SETTING,))
            conn.execute("UPDATE feedback_report SET status = 'received', version = version + 1,"
                         " confirmed_at = now(), due_on = current_date + 5, updated_at = now() "
                         "WHERE id = %s", (report,))
            conn.execute("INSERT INTO feedback_event (report_id, actor_id, action, "
                         "from_status, to_status, visibility) VALUES (%s, %s, 'confirm', "
                         "'unconfirmed', 'received', 'public')", (report, reporter))
        digest = keep_file(FILES_RAW, photo)
        with conn.transaction():
            conn.execute("INSERT INTO feedback_photo (report_id, sha256, content_type, "
                         "size_bytes) VALUES (%s, %s, 'image/jpeg', %s)",
                         (report, digest, len(photo)))
    return submit


def _bare_submitter(port: int, citizens: list[dict[str, str]],
                    places: list[tuple[float, float, str]], department: str
                    ) -> Callable[[int, bytes], None]:
    """The same two requests to the bare app (bench/bare_upload.py): HTTP's floor."""
    clients: dict[int, Http] = {}

    def submit(slot: int, photo: bytes) -> None:
        client = clients.setdefault(slot, Http(port, {"cookie": "", "csrf": ""}))
        lon, lat, ward = places[slot % len(places)]
        status, _, body = client.json("POST", "/r", {
            "category": CATEGORY, "description": "Ổ gà sâu giữa đường, xe máy dễ ngã",
            "lon": lon, "lat": lat, "ward": ward, "department": department,
            "reporter": int(citizens[slot % len(citizens)]["person"])})
        assert status == 201, body[:300]
        data, boundary = _multipart(photo)
        status, _, body = client.send(
            "POST", f"/r/{json.loads(body)['id']}/p", data,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 201, body[:300]
    return submit


def _submissions(port: int, bare_port: int, dsn: str, citizens: list[dict[str, str]],
                 department: str, places: list[tuple[float, float, str]], side: int) -> None:
    rates: dict[str, list[float]] = {"ours": [], "raw": [], "bare": []}
    sides = ("ours", "raw", "bare")
    for n in range(ROUNDS):
        for path in sides[n % 3:] + sides[:n % 3]:
            items = [(i, _photo(side)) for i in range(PER_ROUND)]
            make = (partial(_our_submitter, port, citizens, places) if path == "ours"
                    else partial(_raw_submitter, dsn, citizens, places, department)
                    if path == "raw" else
                    partial(_bare_submitter, bare_port, citizens, places, department))
            _, wall = run_clients(make, items, CLIENTS, 0)
            rates[path].append(PER_ROUND / wall)
        shutil.rmtree(FILES_RAW, ignore_errors=True)
        shutil.rmtree(FILES_BARE, ignore_errors=True)
        FILES_BARE.mkdir(parents=True)
        log(f"  round {n + 1}: submit/s ours={rates['ours'][-1]:.2f} "
            f"raw={rates['raw'][-1]:.2f} bare_http={rates['bare'][-1]:.2f}")
    # Where our time goes: one client alone, the report and the photo apart, and the photo's
    # cleaning (checked by decoding, its metadata dropped) in this process.
    timings: list[tuple[float, float]] = []
    alone = _our_submitter(port, citizens, places, timings)
    for i in range(8):
        alone(i, _photo(side))
    raw_alone = _raw_submitter(dsn, citizens, places, department)
    raw_took = []
    for i in range(8):
        photo = _photo(side)
        started = time.perf_counter()
        raw_alone(i, photo)
        raw_took.append((time.perf_counter() - started) * 1000)
    shutil.rmtree(FILES_RAW, ignore_errors=True)
    photo = _photo(side)
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "in.jpg", Path(tmp) / "out.jpg"
        source.write_bytes(photo)
        took = []
        for _ in range(5):
            started = time.perf_counter()
            assert sniff.clean_image(source, sniff.JPEG, out) is None
            took.append((time.perf_counter() - started) * 1000)
    report_ms = statistics.median(t[0] for t in timings)
    photo_ms = statistics.median(t[1] for t in timings)
    clean_ms = statistics.median(took)
    ours, raw = statistics.median(rates["ours"]), statistics.median(rates["raw"])
    bare = statistics.median(rates["bare"])
    # bare_http: the same requests to an app that checks nothing, its ratio to raw the most
    # any HTTP path with a multipart upload reaches here.
    print(f"BENCH feedback submit_per_s ours={ours:.2f} raw={raw:.2f} bare_http={bare:.2f} "
          f"bare_http_ratio={bare / raw:.2f} ours_to_bare={ours / bare:.2f} clients={CLIENTS} "
          f"photo_mb={len(photo) / 1024 ** 2:.1f} photo_px={side}x{side} rounds={ROUNDS} "
          f"workers={WORKERS} alone_report_ms={report_ms:.0f} alone_photo_ms={photo_ms:.0f} "
          f"alone_raw_ms={statistics.median(raw_took):.0f} "
          f"clean_image_ms={clean_ms:.0f} ratio={ours / raw:.2f}", flush=True)


def _raw_tiles(dsn: str) -> Callable[[int, int, int], None]:
    conn = psycopg.connect(dsn, prepare_threshold=2, autocommit=True)
    conn.execute("SET max_parallel_workers_per_gather = 0")

    def fetch(z: int, x: int, y: int) -> None:
        conn.execute(live_sql(FEEDBACK, z), live_params(FEEDBACK, z, x, y)).fetchone()
    return fetch


def _district_tiles(dsn: str, z: int) -> list[tuple[int, int, int]]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                           "(SELECT ST_Extent(geom) AS e FROM admin_unit "
                           "WHERE level = 'ward') AS s").fetchone()
    assert row is not None
    west, south, east, north = row
    return [(t.z, t.x, t.y) for t in WEB_MERCATOR.tiles(west, south, east, north, zooms=[z])]


def _tiles(port: int, dsn: str, reports: int) -> None:
    """Clusters (z13: the app zoomed out) and points (z14: the app's opening zoom 15)."""
    for z, kind in ((FEEDBACK.cluster_below - 1, "clusters"), (FEEDBACK.cluster_below, "points")):
        tiles = _district_tiles(dsn, z)
        random.Random(7).shuffle(tiles)
        items = (tiles * (TILES // len(tiles) + 1))[:TILES]
        raw_rounds: list[tuple[list[float], float]] = []
        ours_rounds: list[tuple[list[float], float]] = []
        for n in range(ROUNDS):
            ours = partial(http_caller, port, "/tiles/feedback/{}/{}/{}.mvt")
            for side in ("ours", "raw") if n % 2 == 0 else ("raw", "ours"):
                rounds = ours_rounds if side == "ours" else raw_rounds
                rounds.append(run_clients(ours if side == "ours" else partial(_raw_tiles, dsn),
                                          items, CLIENTS, WARMUP))
        ours_lat, ours_wall = min(ours_rounds, key=lambda r: r[1])
        raw_lat, raw_wall = min(raw_rounds, key=lambda r: r[1])
        for name, mine, base in (
            (f"tile_z{z}_{kind}_per_s", len(ours_lat) / ours_wall, len(raw_lat) / raw_wall),
            (f"tile_z{z}_{kind}_p50_ms", percentile(ours_lat, 50), percentile(raw_lat, 50)),
        ):
            ratio = mine / base  # for the p50 lines, above 1 is slower than raw
            print(f"BENCH feedback {name} ours={mine:.2f} raw={base:.2f} tiles={len(tiles)} "
                  f"reports={reports} clients={CLIENTS} workers={WORKERS} uncached=1 "
                  f"ratio={ratio:.2f}", flush=True)


def main() -> None:
    """Measure and print the BENCH feedback lines."""
    cluster = bench_database(PARCELS)
    dsn = cluster.libpq_dsn()
    citizens, department = _setup(cluster)
    reports = _seed_reports(dsn)
    places = _places(dsn, 200)
    side = _photo_side()
    files = BENCH_DIR / "feedback-files-ours"
    proc, port = start_server(cluster, WORKERS, {"CIVICMAP_FILES_DIR": str(files),
                                                 "CIVICMAP_EMBEDDED_WORKER": "false"})
    bare_proc, bare_port = start_bare(dsn, FILES_BARE, WORKERS)
    log(f"feedback: {ROUNDS} rounds of {PER_ROUND} reports with a {side}x{side} photo by "
        f"{CLIENTS} clients, {WORKERS} server workers; {reports} seeded reports for the tiles")
    try:
        _submissions(port, bare_port, dsn, citizens, department, places, side)
        stop(bare_proc)
        _tiles(port, dsn, reports)
    finally:
        stop(proc)
        stop(bare_proc)


if __name__ == "__main__":
    main()
