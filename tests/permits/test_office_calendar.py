"""The work calendar: the department's meetings, one's inspections (with a place) and leave,
and the queue's deadlines, as a list and as an iCalendar feed behind a secret, revocable
address that parses with the icalendar library."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from permits.office.calendar import VIETNAM
from permits.workflow import today
from tests.accounts.world import MY_WARD, World, build
from tests.permits.test_feedback import _in_ward
from tests.permits.test_office import _received


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def test_the_calendar_and_its_feed(client: TestClient, conn: Connection, world: World) -> None:
    officer, leader = world.actors["officer"].headers(), world.actors["leader"].headers()
    day = today() + timedelta(days=3)
    at = datetime.combine(day, time(9), VIETNAM)
    lon, lat = _in_ward(conn, MY_WARD)
    inspection = {"kind": "inspection", "title": "Kiểm tra công trình số 12",
                  "starts_at": at.isoformat(), "ends_at": (at + timedelta(hours=2)).isoformat(),
                  "place": "12 Nguyễn Thị Thập", "lon": lon, "lat": lat}
    made = client.post("/api/office/calendar", json=inspection, headers=officer)
    assert made.status_code == 201, made.text
    backwards = client.post("/api/office/calendar", json={
        **inspection, "ends_at": (at - timedelta(hours=1)).isoformat()}, headers=officer)
    assert (backwards.status_code, backwards.json()["field"]) == (422, "ends_at")
    for wrong in ("2026-12-01T09:00:00", "0001-01-01T00:00:00+14:00"):  # no zone; no such year
        refused = client.post("/api/office/calendar", json={**inspection, "starts_at": wrong},
                              headers=officer)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "starts_at"]
    meeting = {"kind": "meeting", "title": "Giao ban phòng", "scope": "department",
               "starts_at": (at + timedelta(hours=5)).isoformat(),
               "ends_at": (at + timedelta(hours=6)).isoformat()}
    assert client.post("/api/office/calendar", json=meeting,
                       headers=officer).status_code == 403  # leaders set the department's
    assert client.post("/api/office/calendar", json=meeting, headers=leader).status_code == 201
    dossier = _received(conn, world, day)
    code = conn.exec_driver_sql("SELECT code FROM dossier WHERE id = %(i)s",
                                {"i": dossier}).scalar_one()
    week = client.get(f"/api/office/calendar?from={today()}&to={today() + timedelta(days=6)}",
                      headers=officer).json()
    titles = [(e["kind"], e["title"]) for e in week]
    assert ("inspection", "Kiểm tra công trình số 12") in titles
    assert ("meeting", "Giao ban phòng") in titles
    assert any(kind == "deadline" and code in title for kind, title in titles)
    theirs = client.get(f"/api/office/calendar?from={today()}&to={today() + timedelta(days=6)}",
                        headers=world.actors["officer2"].headers()).json()
    assert all(e["title"] != "Giao ban phòng" and e["title"] != "Kiểm tra công trình số 12"
               for e in theirs)
    assert client.get(f"/api/office/calendar?from={today()}&to={today()}",
                      headers=world.actors["citizen"].headers()).status_code == 403
    # The feed: a secret address, parsed by a calendar app's library.
    url = client.post("/api/office/calendar/feed", headers=officer).json()["url"]
    path = url[url.index("/api/"):]
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    parsed = icalendar.Calendar.from_ical(answer.content)
    events = {str(e.get("summary")): e for e in parsed.walk("VEVENT")}
    visit = events["Kiểm tra công trình số 12"]
    assert visit.decoded("dtstart") == at
    assert str(visit.get("location")) == "12 Nguyễn Thị Thập"
    assert "Giao ban phòng" in events
    assert any(code in s for s in events)
    # A new address revokes the old; revoking leaves none.
    second = client.post("/api/office/calendar/feed", headers=officer).json()["url"]
    assert client.get(path).status_code == 404
    assert client.get(second[second.index("/api/"):]).status_code == 200
    assert client.delete("/api/office/calendar/feed", headers=officer).status_code == 204
    assert client.get(second[second.index("/api/"):]).status_code == 404
