"""The office's on-time figures, computed from the events alone: received, handled (decided),
on time against the return date the events last set (an answered supplement moves it on: the
applicant's days do not count against the office), late, overdue, per group and period."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.workflow import SYSTEM, create
from permits.office.stats import period
from permits.workflow import DOSSIER, today
from tests.accounts.world import MY_WARD, PERMIT, URBAN, World, build, complete_answers
from tests.permits.test_feedback import Desk, _in_ward, _send

D = date(2026, 3, 2)  # a Monday of the first half of 2026


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _dossier(conn: Connection, world: World, events: list[tuple[str, date, dict[str, Any]]]
             ) -> int:
    """A dossier whose history is `events` (action, day, detail), as the engine wrote them on
    those days (the statistics read events only)."""
    dossier_id = create(conn, DOSSIER, "create", SYSTEM, {
        "owner_id": world.actors["citizen"].person_id, "procedure_id": PERMIT,
        "department": URBAN, "ward_code": MY_WARD, "parcel_key": world.parcels[MY_WARD],
        "applicant": {"full_name": "Người Nộp"},
        "answers": complete_answers(conn, PERMIT)}).row_id
    for action, day, detail in events:
        conn.exec_driver_sql(
            "INSERT INTO dossier_event (dossier_id, at, action, to_status, visibility, detail) "
            "VALUES (%(d)s, %(at)s, %(a)s, 'x', 'public', %(j)s::jsonb)",
            {"d": dossier_id, "at": f"{day.isoformat()} 09:00+07", "a": action,
             "j": json.dumps({k: str(v) if isinstance(v, date) else v
                              for k, v in detail.items()})})
    return dossier_id


def test_periods_are_months_quarters_halves_and_years() -> None:
    assert period("2026-H1") == (date(2026, 1, 1), date(2026, 6, 30))
    assert period("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert period("2026") == (date(2026, 1, 1), date(2026, 12, 31))


def test_on_time_is_counted_from_the_events(client: TestClient, conn: Connection,
                                            world: World) -> None:
    due = D + timedelta(days=10)
    _dossier(conn, world, [("receive", D, {"due_on": due}),
                           ("approve", D + timedelta(days=8), {})])  # on time
    _dossier(conn, world, [("receive", D, {"due_on": due}),
                           ("refuse", D + timedelta(days=12), {})])  # late
    # The applicant owed a supplement 5 days: the return date moved on; decided in time.
    _dossier(conn, world, [("receive", D, {"due_on": due}),
                           ("supplement", D + timedelta(days=6),
                            {"stopped_days": 5, "due_on": due + timedelta(days=7)}),
                           ("approve", D + timedelta(days=15), {})])
    # An apology's new date does not make it timely; still undecided: overdue.
    _dossier(conn, world, [("receive", D, {"due_on": due}),
                           ("apologise", D + timedelta(days=11), {"new_due_on": "2026-04-30"})])
    # Received before the half year, decided inside it: handled, not received, in it.
    _dossier(conn, world, [("receive", date(2025, 12, 20), {"due_on": date(2026, 1, 10)}),
                           ("approve", date(2026, 1, 5), {})])
    url = "/api/office/stats?period=2026-H1&group=procedure"
    assert client.get(url, headers=world.actors["officer"].headers()).status_code == 403
    answer = client.get(url, headers=world.actors["leader"].headers())
    assert answer.status_code == 200, answer.text
    rows = {r["key"]: r for r in answer.json()["dossiers"]}
    permit = rows[PERMIT]
    assert (permit["received"], permit["handled"], permit["on_time"], permit["late"],
            permit["overdue"], permit["supplement_days"]) == (4, 4, 3, 1, 1, 5)
    assert permit["said"] == "3/4 = 75 %"
    assert permit["name"].startswith("Cấp giấy phép xây dựng")
    # A month holding only the first receipts: received, none handled.
    march = client.get("/api/office/stats?from=2026-03-01&to=2026-03-05&group=field",
                       headers=world.actors["leader"].headers()).json()
    construction = {r["key"]: r for r in march["dossiers"]}["construction"]
    assert (construction["received"], construction["handled"], construction["said"]) == \
        (4, 0, "—")
    csv_text = client.get(url + "&format=csv", headers=world.actors["leader"].headers()).text
    assert csv_text.startswith("\ufeffkind,key,name,received")
    assert "3/4 = 75 %" in csv_text
    book = client.get(url + "&format=xlsx", headers=world.actors["leader"].headers())
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(book.content)) as sheet:
        strings = sheet.read("xl/sharedStrings.xml").decode()
        cells = sheet.read("xl/worksheets/sheet1.xml").decode()
    assert "3/4 = 75 %" in strings
    assert PERMIT in strings
    assert "<v>0.75</v>" in cells  # the rate, a number a spreadsheet can sum
    bad = client.get("/api/office/stats?period=2026-H3",
                     headers=world.actors["leader"].headers())
    assert (bad.status_code, bad.json()["field"]) == (422, "period")
    empty = client.get("/api/office/stats", headers=world.actors["administrator"].headers())
    assert (empty.status_code, empty.json()["field"]) == (422, "period")


def test_feedback_answered_in_time_counts_on_time(client: TestClient, conn: Connection,
                                                 world: World) -> None:
    url = f"/api/office/stats?period={today().year}&group=department"

    def urban() -> tuple[int, int, int, int]:
        rows = {r["key"]: r for r in client.get(
            url, headers=world.actors["leader"].headers()).json()["feedback"]}
        row = rows.get(URBAN, {"received": 0, "handled": 0, "on_time": 0, "overdue": 0})
        return row["received"], row["handled"], row["on_time"], row["overdue"]

    before = urban()  # the web app's tests commit reports of their own
    lon, lat = _in_ward(conn, MY_WARD)
    answered = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                     lat=lat)
    _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon, lat=lat)
    desk = Desk(client, world, answered["id"])
    desk.act("officer", "start")
    desk.act("officer", "answer", note="Đã vá")
    after = urban()
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == (2, 1, 1, 0)
