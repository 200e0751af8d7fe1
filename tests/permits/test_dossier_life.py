"""A dossier's life after submission, through the API and the engine: received with its return
date, a supplement asked and answered from the message's link with the clock stopped, decided,
returned; overdue until an apology gives a new date; the look-up by code leaks nothing."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.workdays import WorkingCalendar
from permits import service as dossier_service
from permits import workflow as dossier_workflow
from permits.clock import Clock
from permits.repository import DossierRepository
from permits.service import DossierService
from tests.accounts.world import (
    MY_WARD,
    PERMIT,
    URBAN,
    World,
    attach_all,
    build,
    calendar_of,
    complete_answers,
)
from tests.permits.document_files import pdf


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _submitted(client: TestClient, world: World, conn: Connection, procedure: str = PERMIT,
               ward: str = MY_WARD, **answers: Any) -> dict[str, Any]:
    citizen = world.actors["citizen"].headers()
    draft = client.post("/api/dossiers", headers=citizen, json={
        "procedure_id": procedure, "parcel_key": world.parcels[ward],
        "applicant": {"full_name": "Trần Thị Bích", "phone": "0907111222",
                      "id_number": "079188000111", "address": "12 Đường Số 7"},
        "answers": {**complete_answers(conn, procedure), **answers}})
    assert draft.status_code == 201, draft.text
    attach_all(conn, draft.json()["id"])
    done = client.post(f"/api/dossiers/{draft.json()['id']}/submit", headers={
        **citizen, "If-Match": draft.headers["etag"], "Idempotency-Key": secrets.token_hex(16)})
    assert done.status_code == 200, done.text
    return {"id": done.json()["id"], "code": done.json()["code"], "etag": done.headers["etag"]}


class Desk:
    """One person acting on one dossier, carrying its ETag from answer to answer."""

    def __init__(self, client: TestClient, world: World, dossier: dict[str, Any]) -> None:
        self.client, self.world, self.dossier = client, world, dossier

    def act(self, who: str, action: str, expect: int = 200, **form: Any) -> Any:
        headers = {**self.world.actors[who].headers(), "If-Match": self.dossier["etag"]}
        answer = self.client.post(f"/api/dossiers/{self.dossier['id']}/actions",
                                  headers=headers, json={"action": action, **form})
        assert answer.status_code == expect, answer.text
        if expect == 200:
            self.dossier["etag"] = answer.headers["etag"]
        return answer


def _in_processing(client: TestClient, world: World, conn: Connection) -> Desk:
    """A dossier submitted, received and being processed, at the officer's desk."""
    desk = Desk(client, world, _submitted(client, world, conn))
    desk.act("officer", "receive")
    desk.act("officer", "start")
    return desk


def _last_message(conn: Connection, phone: str) -> str:
    return str(conn.exec_driver_sql(
        "SELECT body FROM outbox_message WHERE recipient = %(r)s ORDER BY id DESC LIMIT 1",
        {"r": phone}).scalar_one())


def _working_days_after(conn: Connection, received: date, due: date) -> int:
    """Counted by hand on the permit department's calendar: working days d with
    received < d <= due."""
    cal = calendar_of(conn, URBAN, received.year, due.year + 1)
    return sum(1 for n in range(1, (due - received).days + 1)
               if cal.is_working_day(received + timedelta(days=n)))


def test_received_asked_supplemented_decided_returned(client: TestClient, world: World,
                                                      conn: Connection) -> None:
    dossier = _submitted(client, world, conn, floors=3)
    desk = Desk(client, world, dossier)
    url = f"/api/dossiers/{dossier['id']}"
    officer = world.actors["officer"].headers()
    # Staff must say which version they change; a stale one is refused.
    missing = client.post(f"{url}/actions", headers=officer, json={"action": "receive"})
    assert missing.status_code == 428
    stale = client.post(f"{url}/actions", headers={**officer, "If-Match": '"dossier-1-v99"'},
                        json={"action": "receive"})
    assert stale.status_code == 412
    # The officer receives it, and the return date is the procedure's 15 working days on.
    received = desk.act("officer", "receive").json()
    assert received["status"] == "received"
    due = date.fromisoformat(received["due_on"])
    # Received on a day the office is closed (the suite runs on weekends too), the time starts
    # from the next working day, as if received then.
    day = dossier_workflow.today()
    cal = calendar_of(conn, URBAN, day.year, due.year + 1)
    day_one = day if cal.is_working_day(day) else cal.next_working_day(day)
    assert _working_days_after(conn, day_one, due) == 15
    assert "tiếp nhận" in _last_message(conn, "0907111222")
    assert received["actions"] == ["start"]  # the officer's next moves (lapse is the platform's)
    desk.act("officer", "start")
    # Form 02 needs what is missing and a due date.
    refused = desk.act("officer", "request_supplement", 409, missing=[])
    assert [g["guard"] for g in refused.json()["guards"]] == ["supplement_named"]
    later = (dossier_workflow.today() + timedelta(days=10)).isoformat()
    asked = desk.act("officer", "request_supplement",
                     missing=["Bản vẽ mặt bằng tầng 1", "Giấy chứng nhận quyền sử dụng đất"],
                     due_on=later, note="Thiếu bản vẽ").json()
    assert asked["status"] == "supplement_requested"
    assert asked["clock_stopped_on"] == dossier_workflow.today().isoformat()
    sms = _last_message(conn, "0907111222")
    link = re.search(r"/#/supplement/([A-Za-z0-9_-]+)", sms)
    assert link, sms
    # The link opens the request, nothing personal; the applicant answers without signing in.
    opened = client.get(f"/api/supplements/{link[1]}")
    assert opened.status_code == 200
    assert opened.json()["missing"][0] == "Bản vẽ mặt bằng tầng 1"
    assert opened.json()["due_on"] == later
    for secret in ("Trần Thị Bích", "0907111222", "079188000111", "12 Đường Số 7"):
        assert secret not in opened.text
    assert client.get("/api/supplements/" + "x" * 24).status_code == 404
    empty = client.post(f"/api/supplements/{link[1]}", json={})
    assert empty.status_code == 409  # say something, or attach what was asked
    answered = client.post(f"/api/supplements/{link[1]}",
                           json={"note": "Đã gửi bản vẽ qua bưu điện"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "supplemented"
    assert client.get(f"/api/supplements/{link[1]}").status_code == 404  # used up
    row = client.get(url, headers=officer).json()
    assert row["clock_stopped_on"] is None
    assert row["due_on"] == received["due_on"]
    desk.dossier["etag"] = client.get(url, headers=officer).headers["etag"]
    desk.act("officer", "resume")
    # The officer proposes, the leader decides.
    desk.act("officer", "approve", 403)
    desk.act("leader", "approve")
    desk.act("officer", "issue_result", 409)  # the result's number first
    desk.act("officer", "issue_result", result_no="125/GPXD")
    done = desk.act("officer", "return_result").json()
    assert done["status"] == "result_returned"
    assert done["returned_at"]
    # The history: the applicant sees every public move with the officer's note; the forms.
    history = client.get(f"{url}/events", headers=world.actors["citizen"].headers()).json()
    assert [e["action"] for e in history] == [
        "create", "submit", "receive", "start", "request_supplement", "supplement", "resume",
        "approve", "issue_result", "return_result"]
    forms = client.get(f"{url}/forms", headers=world.actors["citizen"].headers())
    assert forms.status_code == 200
    assert [f["form"] for f in forms.json()] == ["01", "02"]
    receipt = forms.json()[0]
    assert receipt["event_id"] == next(e["id"] for e in history if e["action"] == "receive")
    assert receipt["detail"]["due_on"] == received["due_on"]
    assert receipt["applicant_name"] == "Trần Thị Bích"
    assert receipt["officer"] == "Người Thử Officer"
    assert forms.json()[1]["detail"]["missing"][1] == "Giấy chứng nhận quyền sử dụng đất"
    assert client.get(f"{url}/forms",
                      headers=world.actors["citizen2"].headers()).status_code == 404
    # Anyone with the code: status, dates, the public moves; never a name, phone, ID, address
    # or the officer's note.
    public = client.get(f"/api/dossiers/lookup/{dossier['code']}")
    assert public.status_code == 200
    assert public.json()["status"] == "result_returned"
    assert [e["action"] for e in public.json()["events"]][-1] == "return_result"
    for secret in ("Trần Thị Bích", "0907111222", "079188000111", "12 Đường Số 7",
                   "Thiếu bản vẽ", "bưu điện", "Người Thử"):
        assert secret not in public.text


def test_the_clock_stops_while_a_supplement_is_owed_across_tet(
        client: TestClient, world: World, conn: Connection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    current = [date(2027, 1, 28)]

    def today() -> date:
        return current[0]

    monkeypatch.setattr(dossier_service, "today", today)
    monkeypatch.setattr(dossier_workflow, "today", today)
    dossier = _submitted(client, world, conn)
    desk = Desk(client, world, dossier)
    received = desk.act("officer", "receive").json()
    first_due = date.fromisoformat(received["due_on"])
    cal = WorkingCalendar.for_years(2026, 2028)
    tet = [date(2027, 2, 1) + timedelta(days=n) for n in range(21)
           if not cal.is_working_day(date(2027, 2, 1) + timedelta(days=n))
           and (date(2027, 2, 1) + timedelta(days=n)).weekday() < 5]
    assert tet, "Tết 2027 gives weekdays off"
    assert _working_days_after(conn, date(2027, 1, 28), first_due) == 15
    assert (first_due - date(2027, 1, 28)).days > 21 - 1  # Tết pushed it past three weeks
    desk.act("officer", "start")
    current[0] = date(2027, 2, 1)
    desk.act("officer", "request_supplement", missing=["Bản vẽ"], due_on="2027-03-01")
    current[0] = date(2027, 2, 22)
    answered = client.post(f"/api/dossiers/{dossier['id']}/supplement",
                           headers=world.actors["citizen"].headers(),
                           json={"note": "Bổ sung bản vẽ"})
    assert answered.status_code == 200, answered.text
    after = client.get(f"/api/dossiers/{dossier['id']}",
                       headers=world.actors["officer"].headers()).json()
    stood = _working_days_after(conn, date(2027, 2, 1), date(2027, 2, 22))
    assert stood < 15  # Tết's days off did not count as days the clock stood
    assert after["stopped_days"] == stood
    assert _working_days_after(conn, first_due, date.fromisoformat(after["due_on"])) == stood


def test_overdue_needs_an_apology_with_a_new_date(client: TestClient, world: World,
                                                  conn: Connection) -> None:
    desk = _in_processing(client, world, conn)
    dossier = desk.dossier
    service = DossierService(DossierRepository(conn), "000.00.01.H29", Clock(conn))
    assert service.mark_overdue() == 0  # nothing is due yet (the sample's other dossiers
    # have no return date)
    conn.exec_driver_sql("UPDATE dossier SET due_on = current_date - 3 WHERE id = %(i)s",
                         {"i": dossier["id"]})
    assert service.mark_overdue() >= 1
    url = f"/api/dossiers/{dossier['id']}"
    row = client.get(url, headers=world.actors["officer"].headers())
    assert row.json()["status"] == "overdue"
    assert "quá hạn" in _last_message(conn, "0907111222")
    desk.dossier["etag"] = row.headers["etag"]
    assert row.json()["actions"] == ["apologise"]
    desk.act("leader", "approve", 409)  # not before the apology
    no_date = desk.act("officer", "apologise", 409, reason="Chờ ý kiến phòng Tài nguyên")
    assert "new return date" in no_date.json()["detail"]
    new = (dossier_workflow.today() + timedelta(days=7)).isoformat()
    back = desk.act("officer", "apologise", reason="Chờ ý kiến phòng Tài nguyên",
                    new_due_on=new).json()
    assert back["status"] == "in_processing"
    assert back["due_on"] == new
    assert "xin lỗi" in _last_message(conn, "0907111222")
    history = client.get(f"{url}/events", headers=world.actors["citizen"].headers()).json()
    apology = history[-1]
    assert apology["detail"]["form"] == "04"
    assert apology["detail"]["new_due_on"] == new
    form = client.get(f"{url}/forms", headers=world.actors["leader"].headers()).json()[-1]
    assert form["event_id"] == apology["id"]
    assert form["title_vi"].startswith("Phiếu xin lỗi")


def test_withdrawn_before_a_decision_not_after(client: TestClient, world: World,
                                              conn: Connection) -> None:
    desk = _in_processing(client, world, conn)
    dossier = desk.dossier
    desk.act("leader", "refuse", 409)  # the reasons first (Form 03)
    desk.act("leader", "refuse", reasons=["Vượt tầng cao tối đa của ô phố"])
    citizen = world.actors["citizen"].headers()
    late = client.post(f"/api/dossiers/{dossier['id']}/withdraw", headers=citizen)
    assert late.status_code == 409
    other = _submitted(client, world, conn)
    Desk(client, world, other).act("officer", "receive")
    gone = client.post(f"/api/dossiers/{other['id']}/withdraw", headers=citizen)
    assert gone.json()["status"] == "withdrawn"


def test_officers_outside_the_scope_cannot_act(client: TestClient, world: World,
                                               conn: Connection) -> None:
    dossier = _submitted(client, world, conn)
    desk = Desk(client, world, dossier)
    desk.act("officer2", "receive", 403)  # another department, another ward
    desk.act("citizen2", "receive", 403)  # citizens do not handle dossiers
    desk.act("citizen", "receive", 403)


def test_look_ups_by_code_are_limited_per_client(client: TestClient, world: World) -> None:
    code = world.dossiers["c1_sub"].code
    for n in range(60):
        answer = client.get(f"/api/dossiers/lookup/000.00.01.H29-270101-{n:04d}")
        assert answer.status_code in (200, 404)
    limited = client.get(f"/api/dossiers/lookup/{code}")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


def test_the_due_date_counts_swaps_and_the_departments_closures(world: World,
                                                                conn: Connection) -> None:
    # The world makes Mon 28 Dec 2026 a day off (a swap) and closes urban management on 29 Dec.
    clock = Clock(conn)
    assert clock.due(date(2026, 12, 24), 3, "working", "economy") == date(2026, 12, 30)
    assert clock.due(date(2026, 12, 24), 3, "working", URBAN) == date(2026, 12, 31)
    # Calendar days end on the next working day when the last one is not: 28 Dec, then 30.
    assert clock.due(date(2026, 12, 24), 4, "calendar", URBAN) == date(2026, 12, 30)
    assert clock.due(date(2026, 12, 24), 1, "calendar", URBAN) == date(2026, 12, 25)


def test_documents_sent_for_the_request_answer_it(client: TestClient, world: World,
                                                  conn: Connection) -> None:
    desk = _in_processing(client, world, conn)
    dossier = desk.dossier
    later = (dossier_workflow.today() + timedelta(days=5)).isoformat()
    desk.act("officer", "request_supplement", missing=["Bản vẽ đã ký"], due_on=later)
    url = f"/api/dossiers/{dossier['id']}"
    citizen = world.actors["citizen"].headers()
    assert client.post(f"{url}/supplement", headers=citizen, json={}).status_code == 409
    sent = client.post(f"{url}/documents", headers=citizen, data={"key": "drawings"},
                       files={"file": ("ban-ve-da-ky.pdf", pdf(), "application/pdf")})
    assert sent.status_code == 201, sent.text
    assert sent.json()["for_event_id"] is not None
    answered = client.post(f"{url}/supplement", headers=citizen, json={})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "supplemented"
