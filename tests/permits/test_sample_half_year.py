"""The sample's half year, lived through the services: its statistics, computed from the events,
are the district proposal's table (household business 1538/1618 = 95 %, labour 557/562,
construction 33/1169), with 45 feedback reports; every move is an event of its own day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from accounts.policy import Principal
from accounts.repository import grants
from core.deps import get_connection
from core.settings import Settings
from gisapi.main import create_app
from permits.documents.storage import FileStore
from permits.office.repository import OfficeRepository
from permits.office.service import OfficeService
from permits.sample.service import (
    FIRST,
    LAST,
    MARKER,
    PERIOD,
    REPORTS,
    REPORTS_ON_TIME,
    SHARES,
    HalfYear,
    Share,
)
from tests.accounts.world import World, build

TABLE = {"household-business-registration": (1618, 1618, 1538, "1538/1618 = 95 %"),
         "labour-rules-registration": (562, 562, 557, "557/562 = 99 %"),
         "construction-permit-house": (1169, 1169, 33, "33/1169 = 3 %")}
# Of the sample's moves, those made on the sample's dossiers (its applicants' e-mails).
SAMPLE = ("FROM dossier_event e JOIN dossier d ON d.id = e.dossier_id "
          "JOIN person p ON p.id = d.owner_id WHERE p.email LIKE %(m)s")
MARKED = {"m": f"%@{MARKER}"}


@pytest.fixture
def conn(half_year: Engine) -> Iterator[Connection]:
    with half_year.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


@pytest.fixture
def client(half_year: Engine, conn: Connection, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(tile_cache_size=0, files_dir=tmp_path / "files"),
                     engine=half_year)
    app.dependency_overrides[get_connection] = lambda: conn
    with TestClient(app) as test_client:
        yield test_client


def test_the_half_year_shows_the_proposals_table(client: TestClient, conn: Connection,
                                                 world: World) -> None:
    assert HalfYear(conn, Settings()).present()
    answer = client.get(f"/api/office/stats?period={PERIOD}&group=procedure",
                        headers=world.actors["administrator"].headers())
    assert answer.status_code == 200, answer.text
    rows = {r["key"]: r for r in answer.json()["dossiers"]}
    assert {key: (rows[key]["received"], rows[key]["handled"], rows[key]["on_time"],
                  rows[key]["said"]) for key in TABLE} == TABLE
    assert rows["construction-permit-house"]["name"].startswith("Cấp giấy phép xây dựng")
    # The applicants' supplement days were counted (and not against the office).
    assert all(rows[key]["supplement_days"] > 0 for key in TABLE)
    feedback = client.get(f"/api/office/stats?period={PERIOD}&group=field",
                          headers=world.actors["administrator"].headers()).json()["feedback"]
    assert [(r["received"], r["handled"], r["on_time"]) for r in feedback] == \
        [(REPORTS, REPORTS, REPORTS_ON_TIME)]
    # Other groups are named too: wards (today's), officers, departments.
    for group in ("ward", "officer", "department", "field"):
        grouped = client.get(f"/api/office/stats?period={PERIOD}&group={group}",
                             headers=world.actors["administrator"].headers()).json()
        assert all(r["name"] and r["name"] != r["key"] for r in grouped["dossiers"]), group
    # A leader sees their own department's rows only.
    urban = client.get(f"/api/office/stats?period={PERIOD}&group=procedure",
                         headers=world.actors["leader"].headers()).json()["dossiers"]
    assert [r["key"] for r in urban] == ["construction-permit-house"]


def test_each_move_was_the_engines_on_its_own_day(conn: Connection) -> None:
    first, last, days = conn.exec_driver_sql(
        "SELECT min((at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date), "
        "max((at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date), "
        f"count(DISTINCT (at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date) {SAMPLE}", MARKED).one()
    assert FIRST <= first <= last <= LAST
    assert days > 100
    moves = dict(conn.exec_driver_sql(f"SELECT action, count(*) {SAMPLE} GROUP BY action",
                                      MARKED).all())
    dossiers = sum(s.decided for s in SHARES)
    assert moves["create"] == moves["submit"] == moves["receive"] == moves["assign"] == dossiers
    assert moves["approve"] + moves["refuse"] == dossiers
    late = sum(s.decided - s.on_time for s in SHARES)
    assert moves["lapse"] == moves["apologise"] == late
    assert moves["request_supplement"] == moves["supplement"] == moves["resume"] > 0
    # Codes carry the day of their submission; stamps the pinned moments.
    assert conn.exec_driver_sql(
        "SELECT count(*) FROM dossier d JOIN person p ON p.id = d.owner_id "
        "WHERE p.email LIKE %(m)s AND (d.code NOT LIKE '%%-25____-%%' "
        "OR d.submitted_at NOT BETWEEN '2025-07-01' AND '2026-01-01' "
        "OR d.decided_at < d.received_at)", MARKED).scalar_one() == 0
    # The household-business fees were paid online, each before its receipt.
    assert conn.exec_driver_sql(
        "SELECT count(*) FROM payment p JOIN dossier d ON d.id = p.dossier_id "
        "WHERE d.procedure_id = 'household-business-registration' AND p.paid_at < d.received_at"
    ).scalar_one() == 1618
    # Each dossier's documents were uploaded, checked and kept (once per content).
    assert conn.exec_driver_sql(
        "SELECT count(DISTINCT dossier_id) FROM dossier_document").scalar_one() == dossiers


def test_a_small_half_year_leaves_no_work_open(files_dir: Path, signing_dir: Path,
                                               engine: Engine) -> None:
    """At a twentieth of the size, with the signed results `civicmap run` issues: every
    dossier ends handed over, so no officer's queue holds the sample's work."""
    small = tuple(Share(s.procedure, 12, 10, s.late_days) for s in SHARES)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            half = HalfYear(conn, Settings(files_dir=files_dir, signing_dir=signing_dir),
                            shares=small)
            made = half.live()
            assert made.dossiers == {s.procedure: 12 for s in SHARES}
            ended = dict(conn.exec_driver_sql(
                "SELECT d.status, count(*) FROM dossier d JOIN person p ON p.id = d.owner_id "
                "WHERE p.email LIKE %(m)s GROUP BY 1", MARKED).all())
            assert ended == {"result_returned": 36}
            results = conn.exec_driver_sql(
                "SELECT r.result_no, r.sha256 FROM dossier_result r "
                "JOIN dossier d ON d.id = r.dossier_id JOIN person p ON p.id = d.owner_id "
                "WHERE p.email LIKE %(m)s", MARKED).all()
            approved = 36 - conn.exec_driver_sql(
                f"SELECT count(*) {SAMPLE} AND e.action = 'refuse'", MARKED).scalar_one()
            assert len(results) == approved
            assert {n for n, _ in results} >= {"1/GPXD", "1/TB-LĐ", "41A8000001"}
            assert all(FileStore(files_dir).path_of(h).is_file() for _, h in results)
            officers = conn.exec_driver_sql(
                "SELECT id FROM person WHERE email LIKE %(m)s AND email LIKE 'can-bo-%%'",
                MARKED).scalars().all()
            office = OfficeService(OfficeRepository(conn))
            for person_id in officers:
                principal = Principal(person_id, grants(conn, person_id), "cookie")
                assert [i for i in office.queue(principal)
                        if i.row.kind == "dossier" and i.row.label.startswith(
                            "000.00.01.H29-25")] == []
        finally:
            trans.rollback()
