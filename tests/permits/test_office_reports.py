"""The workload and feedback-density map report: made by a leader for their department (an
administrator's for any, or the district), kept and opened by its link, made each month by
the periodic task; its page names no host outside the platform and no reporter."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from permits.office.report import ReportService
from permits.office.repository import OfficeRepository
from tests.accounts.world import MY_WARD, URBAN, World, build
from tests.permits.test_feedback import _in_ward, _send


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _spec(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="deck-spec">(.*?)</script>', page,
                      flags=re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_a_leader_makes_the_map_and_it_loads_nothing_from_outside(
        client: TestClient, conn: Connection, world: World) -> None:
    lon, lat = _in_ward(conn, MY_WARD)
    _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon, lat=lat)
    leader = world.actors["leader"].headers()
    made = client.post("/api/office/reports", json={"period": date.today().strftime("%Y-%m")},
                       headers=leader)
    assert made.status_code == 201, made.text
    assert made.json()["department"] == URBAN
    page = client.get(made.json()["url"], headers=leader)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    html = page.text
    # Names no outside host: no absolute address at all; every file is the platform's.
    assert re.findall(r"(?i)\b(?:https?:)?//[a-z0-9.-]+", html) == []
    assert set(re.findall(r'(?:src|href)="([^"]+)"', html)) == {"/maplibre-gl.css",
                                                                "/report.js"}
    spec = _spec(html)
    layers = {layer["id"]: layer for layer in spec["layers"]}  # type: ignore[attr-defined]
    assert set(layers) == {"wards", "workload", "feedback"}
    assert layers["workload"]["@@type"] == "ColumnLayer"
    assert sum(w["open"] for w in layers["workload"]["data"]) > 0  # the world's dossiers
    assert len(layers["feedback"]["data"]) >= 1  # the report just sent
    assert layers["wards"]["data"]["type"] == "FeatureCollection"
    # Nothing of any reporter or applicant.
    assert world.actors["citizen"].phone not in html
    assert "reporter" not in html
    # Kept: listed, made again in place; another department's leader cannot open it.
    listed = client.get("/api/office/reports", headers=leader).json()
    again = client.post("/api/office/reports", json={"period": made.json()["period"]},
                        headers=leader).json()
    assert again["id"] == made.json()["id"] == listed[0]["id"]
    stranger = world.actors["officer2"].headers()
    assert client.get(made.json()["url"], headers=stranger).status_code == 403
    assert client.get(made.json()["url"],
                      headers=world.actors["administrator"].headers()).status_code == 200
    bad = client.post("/api/office/reports", json={"period": "2026-13"}, headers=leader)
    assert (bad.status_code, bad.json()["field"]) == (422, "period")
    assert client.post("/api/office/reports", json={"period": "2026-11"},
                       headers=world.actors["officer"].headers()).status_code == 403


def test_the_monthly_task_makes_the_months_reports(client: TestClient, conn: Connection,
                                                   world: World) -> None:
    made = ReportService(OfficeRepository(conn)).monthly(date(2026, 12, 1))
    assert {m.period for m in made} == {"2026-11"}
    assert {m.department for m in made} == {None, "economy", "home-affairs",
                                            "urban-management",
                                            "natural-resources-environment"}
    every = client.get("/api/office/reports",
                       headers=world.actors["administrator"].headers()).json()
    assert {r["department"] for r in every if r["period"] == "2026-11"} >= \
        {None, "urban-management"}
    own = client.get("/api/office/reports", headers=world.actors["leader"].headers()).json()
    assert {r["department"] for r in own} == {URBAN}
    district = next(m for m in made if m.department is None)
    page = client.get(f"/api/office/reports/{district.id}",
                      headers=world.actors["administrator"].headers()).text
    assert "toàn quận" in page
    assert client.get(f"/api/office/reports/{district.id}",
                      headers=world.actors["leader"].headers()).status_code == 404
