"""The officers' mobile office, first part: one queue of dossiers, feedback and tasks, the most
urgent first in the department's working days, each with its one next move; leaders' assignments
within their department (an event of the item; the officer hears of it); free tasks."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from accounts.policy import Subject, may
from core.workdays import WorkingCalendar
from core.workflow import SYSTEM, create, fire
from permits.office.calendar import VIETNAM
from permits.office.reminders import Reminders, staff
from permits.office.repository import OfficeRepository
from permits.office.schemas import QueueItem
from permits.office.service import NEXT, WORKFLOWS, OfficeService, Urgency
from permits.office.workflow import TASK
from permits.workflow import DOSSIER, today
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
from tests.permits.test_feedback import _in_ward, _send


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _received(conn: Connection, world: World, due: date) -> int:
    """A construction-permit dossier of my ward, received, due on `due`."""
    dossier_id = create(conn, DOSSIER, "create", SYSTEM, {
        "owner_id": world.actors["citizen"].person_id, "procedure_id": PERMIT,
        "department": URBAN, "ward_code": MY_WARD, "parcel_key": world.parcels[MY_WARD],
        "applicant": {"full_name": "Người Nộp", "phone": "0930000999"},
        "answers": complete_answers(conn, PERMIT)}).row_id
    attach_all(conn, dossier_id)
    code = f"000.00.01.H29-261202-{secrets.randbelow(10**4):04d}"
    fire(conn, DOSSIER, dossier_id, "submit", SYSTEM, values={"code": code})
    fire(conn, DOSSIER, dossier_id, "receive", SYSTEM, values={"due_on": due})
    return dossier_id


def _queue(client: TestClient, world: World, who: str) -> list[Any]:
    answer = client.get("/api/office/queue", headers=world.actors[who].headers())
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_the_queue_puts_the_overdue_first_then_today_soon_later(
        client: TestClient, conn: Connection, world: World) -> None:
    day = today()
    calendar = calendar_of(conn, URBAN, day.year - 1, day.year + 1)
    later = _received(conn, world, calendar.add_working_days(day, 8))
    # The next working day: one working day left, on a weekend too (the suite runs then).
    soon = _received(conn, world, calendar.next_working_day(day))
    overdue = _received(conn, world, day - timedelta(days=3))
    due_today = _received(conn, world, day)
    lon, lat = _in_ward(conn, MY_WARD)
    report = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                   lat=lat, category="manholes")
    items = _queue(client, world, "officer")
    for item in items:  # the answer is written by hand: it keeps to its documented shape
        assert QueueItem.model_validate(item).model_dump(mode="json") == item
    mine = [(i["kind"], i["id"]) for i in items]
    order = [("dossier", overdue), ("dossier", due_today), ("dossier", soon),
             ("dossier", later)]
    assert [m for m in mine if m in order] == order
    by_id = {(i["kind"], i["id"]): i for i in items}
    assert [by_id[k]["urgency"] for k in order] == ["overdue", "today", "soon", "later"]
    assert by_id[("dossier", overdue)]["working_days_left"] < 0
    assert by_id[("dossier", soon)]["working_days_left"] == 1
    assert by_id[("dossier", overdue)]["next_action"] == "start"
    assert by_id[("dossier", overdue)]["ward"]
    assert by_id[("dossier", overdue)]["lon"]
    # The submitted dossier waiting to be received: no deadline yet, its next move receive.
    waiting = by_id[("dossier", world.dossiers["c1_sub"].id)]
    assert (waiting["urgency"], waiting["next_action"]) == ("none", "receive")
    assert mine.index(("dossier", later)) < mine.index(("dossier", waiting["id"]))
    feedback = by_id[("feedback", report["id"])]
    assert (feedback["next_action"], feedback["title"]) == ("start", "Hố ga, nắp cống")
    # The etag moves the item: one tap, through the engine.
    moved = client.post(f"/api/dossiers/{overdue}/actions", json={"action": "start"},
                        headers={**world.actors["officer"].headers(),
                                 "If-Match": by_id[("dossier", overdue)]["etag"]})
    assert moved.status_code == 200, moved.text
    # Another department's officer in another ward sees none of it; citizens have no queue.
    theirs = {(i["kind"], i["id"]) for i in _queue(client, world, "officer2")}
    assert not theirs & set(order)
    assert ("dossier", world.dossiers["c2_sub"].id) in theirs
    assert client.get("/api/office/queue",
                      headers=world.actors["citizen"].headers()).status_code == 403


def test_the_database_counts_working_days_and_offers_moves_as_the_calendar_and_policy_do(
        client: TestClient, conn: Connection, world: World) -> None:
    """Day by day, the queue's SQL counts working days left as core.workdays does (holidays,
    a worked Saturday, a department's closure of a working day, one of a Sunday), offers the
    next move `may` allows, and answers the API with the rows the services read."""
    day = today()
    national = WorkingCalendar.for_years(day.year - 1, day.year + 2)
    ahead = [day + timedelta(days=n) for n in range(2, 12)]
    saturday = next(d for d in ahead if d.weekday() == 5)
    sunday = next(d for d in ahead if d.weekday() == 6)
    closed = next(d for d in ahead if d.weekday() < 5 and national.is_working_day(d))
    conn.exec_driver_sql("INSERT INTO working_day_swap (day, kind, reason) VALUES (%(d)s, "
                         "'working_day', 'Làm bù') ON CONFLICT DO NOTHING", {"d": saturday})
    for shut in (closed, sunday):
        conn.exec_driver_sql("INSERT INTO department_closure (department, day, reason) VALUES "
                             "(%(u)s, %(d)s, 'Tập huấn') ON CONFLICT DO NOTHING",
                             {"u": URBAN, "d": shut})
    dues = [day + timedelta(days=n) for n in range(-15, 30)] + [date(day.year + 4, 3, 2)]
    tasks = {create(conn, TASK, "create", SYSTEM, {
        "title": f"Việc {due}", "department": URBAN, "ward_code": MY_WARD, "due_on": due}
        ).row_id: due for due in dues}
    office = OfficeService(OfficeRepository(conn))
    calendar = office.calendar(URBAN)
    assert calendar.is_working_day(saturday)
    assert not calendar.is_working_day(closed)
    for who in ("officer", "leader", "officer2"):
        principal = world.actors[who].principal
        items = office.queue(principal, 5000)
        for item in items:
            row = item.row
            move = NEXT.get((row.kind, row.status))
            subject = Subject(owner_id=None, department=row.department, ward=row.ward_code)
            assert item.next_action == (move[0] if move and may(principal, move[1], subject)
                                        else None), (who, row.kind, row.status)
            assert item.etag == WORKFLOWS[row.kind].etag(row.id, row.version)
        left = {i.row.id: i.working_days_left for i in items if i.row.kind == "task"}
        if who == "officer2":  # another department's: none of ours
            assert not left.keys() & tasks.keys()
            continue
        assert {t: left[t] for t in tasks} == {
            t: calendar.working_days_between(day, due) if due.year <= day.year + 2
            else (due - day).days for t, due in tasks.items()}
        ranks = [list(Urgency).index(i.urgency) for i in items]
        assert ranks == sorted(ranks)
        answer = client.get("/api/office/queue?limit=5000",
                            headers=world.actors[who].headers()).json()
        assert answer == [QueueItem.model_validate(
            {**i.row._mapping, "urgency": str(i.urgency)}).model_dump(mode="json")
            for i in items]


def test_leaders_assign_within_their_department_and_the_officer_hears(
        client: TestClient, conn: Connection, world: World) -> None:
    dossier = world.dossiers["c1_sub"].id
    officer = world.actors["officer"]
    etag = client.get(f"/api/dossiers/{dossier}", headers=world.actors["leader"].headers()
                      ).headers["etag"]
    body = {"kind": "dossier", "id": dossier, "assignee_id": officer.person_id,
            "note": "Ưu tiên"}
    assert client.post("/api/office/assignments", json=body, headers={
        **officer.headers(), "If-Match": etag}).status_code == 403  # officers do not assign
    wrong = client.post("/api/office/assignments", json={
        **body, "assignee_id": world.actors["officer2"].person_id},
        headers={**world.actors["leader"].headers(), "If-Match": etag})
    assert (wrong.status_code, wrong.json()["field"]) == (422, "assignee_id")
    outside = client.post("/api/office/assignments", json={
        **body, "id": world.dossiers["c2_sub"].id},
        headers={**world.actors["leader"].headers(), "If-Match": "*"})
    assert outside.status_code == 403  # another department's dossier
    made = client.post("/api/office/assignments", json=body,
                       headers={**world.actors["leader"].headers(), "If-Match": etag})
    assert made.status_code == 200, made.text
    assert made.json()["etag"] != etag
    event = conn.exec_driver_sql(
        "SELECT action, from_status, to_status, visibility, note, detail->>'assignee_id' "
        "FROM dossier_event WHERE dossier_id = %(d)s ORDER BY id DESC LIMIT 1",
        {"d": dossier}).one()
    assert event == ("assign", "awaiting_receipt", "awaiting_receipt", "staff", "Ưu tiên",
                     str(officer.person_id))
    told = conn.exec_driver_sql("SELECT body FROM outbox_message WHERE recipient = %(r)s "
                                "ORDER BY id DESC LIMIT 1", {"r": officer.phone}).scalar_one()
    assert "được giao cho bạn" in told
    # In the officer's in-app list too, opening the dossier.
    notice = conn.exec_driver_sql(
        "SELECT body, link FROM person_notice WHERE person_id = %(p)s ORDER BY id DESC LIMIT 1",
        {"p": officer.person_id}).one()
    assert (notice.body, notice.link) == (told, f"#/dossiers/{dossier}")
    listed = client.get("/api/office/notices?unread=true", headers=officer.headers()).json()
    assert listed[0]["body"] == told
    # The applicant sees nothing of it; the dossier's next moves are unchanged.
    seen = client.get(f"/api/dossiers/{dossier}", headers=world.actors["citizen"].headers())
    assert "assign" not in seen.text
    assert client.get(f"/api/dossiers/{dossier}", headers=officer.headers()
                      ).json()["actions"] == ["receive", "decline"]
    queued = {i["id"]: i for i in _queue(client, world, "officer") if i["kind"] == "dossier"}
    assert queued[dossier]["assignee_id"] == officer.person_id


def test_a_leader_assigns_feedback_and_the_officer_hears(
        client: TestClient, conn: Connection, world: World) -> None:
    lon, lat = _in_ward(conn, MY_WARD)
    report = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                   lat=lat)
    officer = world.actors["officer"]
    etag = client.get(f"/api/feedback/{report['id']}").headers["etag"]
    made = client.post("/api/office/assignments", json={
        "kind": "feedback", "id": report["id"], "assignee_id": officer.person_id},
        headers={**world.actors["leader"].headers(), "If-Match": etag})
    assert made.status_code == 200, made.text
    assert client.get(f"/api/feedback/{report['id']}").json()["status"] == "assigned"
    assert conn.exec_driver_sql(
        "SELECT count(*) FROM outbox_message WHERE recipient = %(r)s AND body LIKE %(b)s",
        {"r": officer.phone, "b": f"Phản ánh số {report['id']} được giao%"}).scalar_one() == 1
    assert conn.exec_driver_sql(
        "SELECT link FROM person_notice WHERE person_id = %(p)s AND body LIKE %(b)s",
        {"p": officer.person_id, "b": f"Phản ánh số {report['id']} được giao%"}
    ).scalar_one() == f"#/feedback/{report['id']}"


def test_free_tasks_are_given_done_and_refused_outside_the_rules(
        client: TestClient, conn: Connection, world: World) -> None:
    leader, officer = world.actors["leader"], world.actors["officer"]
    lon, lat = _in_ward(conn, MY_WARD)
    due = today() + timedelta(days=7)
    body = {"title": "Kiểm tra công trình số 12", "due_on": due.isoformat(),
            "assignee_id": officer.person_id, "lon": lon, "lat": lat}
    assert client.post("/api/office/tasks", json=body,
                       headers=officer.headers()).status_code == 403
    past = client.post("/api/office/tasks", json={**body, "due_on": "2020-01-01"},
                       headers=leader.headers())
    assert (past.status_code, past.json()["field"]) == (422, "due_on")
    far = client.post("/api/office/tasks", json={**body, "lon": 105.8, "lat": 21.0},
                      headers=leader.headers())
    assert (far.status_code, far.json()["field"]) == (422, "lat")
    made = client.post("/api/office/tasks", json=body, headers=leader.headers())
    assert made.status_code == 201, made.text
    task = made.json()
    assert (task["status"], task["department"], task["ward_code"]) == ("open", URBAN, MY_WARD)
    assert conn.exec_driver_sql("SELECT count(*) FROM outbox_message WHERE recipient = %(r)s "
                                "AND body LIKE 'Việc mới: Kiểm tra công trình số 12%%'",
                                {"r": officer.phone}).scalar_one() == 1
    queued = {(i["kind"], i["id"]): i for i in _queue(client, world, "officer")}
    assert queued[("task", task["id"])]["next_action"] == "complete"
    url = f"/api/office/tasks/{task['id']}"
    assert client.get(url, headers=world.actors["officer2"].headers()).status_code == 403
    etag = client.get(url, headers=officer.headers()).headers["etag"]
    assert client.post(f"{url}/actions", json={"action": "cancel"}, headers={
        **officer.headers(), "If-Match": etag}).status_code == 403
    assert client.post(f"{url}/actions", json={"action": "complete"}, headers={
        **officer.headers(), "If-Match": '"task-1-v9"'}).status_code == 412
    done = client.post(f"{url}/actions", json={"action": "complete", "note": "Đã kiểm tra"},
                       headers={**officer.headers(), "If-Match": etag})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert [e["action"] for e in done.json()["events"]] == ["create", "complete"]
    assert ("task", task["id"]) not in {(i["kind"], i["id"])
                                        for i in _queue(client, world, "officer")}


def test_reminders_go_once_per_item_and_moment(client: TestClient, conn: Connection,
                                               world: World) -> None:
    day = today()
    calendar = calendar_of(conn, URBAN, day.year - 1, day.year + 1)
    overdue = _received(conn, world, day - timedelta(days=2))
    tomorrow = calendar.next_working_day(day)  # on a weekend too: Monday
    soon = _received(conn, world, tomorrow)
    later = _received(conn, world, calendar.add_working_days(day, 9))
    reminders = Reminders(conn)
    working = reminders.office.calendar(URBAN).is_working_day(day)
    # What the leader's queue held besides (the web app's tests commit their own items).
    leader_principal = next(p for p in staff(conn)
                            if p.person_id == world.actors["leader"].person_id)
    counts = Counter(i.urgency for i in reminders.office.queue(leader_principal, 5000))
    first = reminders.run(digest=True)
    again = reminders.run(digest=True)
    assert (again.digests, sum(again.alerts.values())) == (0, 0)  # never twice
    officer, leader = world.actors["officer"], world.actors["leader"]
    notices = {r.body for r in conn.exec_driver_sql(
        "SELECT body FROM person_notice WHERE person_id = %(p)s", {"p": officer.person_id})}
    codes = dict(conn.exec_driver_sql("SELECT id, code FROM dossier WHERE id = ANY(%(i)s)",
                                      {"i": [overdue, soon, later]}).all())
    assert f"Hồ sơ {codes[overdue]} đã quá hạn (hạn {day - timedelta(days=2):%d/%m/%Y})." \
        in notices
    assert f"Hồ sơ {codes[soon]} đến hạn ngày {tomorrow:%d/%m/%Y}." in notices
    assert not any(codes[later] in n for n in notices)
    assert first.alerts["overdue"] >= 1
    assert first.alerts["due_soon"] >= 1
    # Leaders get the digest, not every alert; the digest only on a working day.
    leader_notices = [r[0] for r in conn.exec_driver_sql(
        "SELECT body FROM person_notice WHERE person_id = %(p)s", {"p": leader.person_id})]
    assert counts[Urgency.OVERDUE] >= 1  # ours among them
    assert leader_notices == ([f"Việc ngày {day:%d/%m}: {counts[Urgency.OVERDUE]} quá hạn, "
                               f"{counts[Urgency.TODAY]} đến hạn hôm nay, "
                               f"{counts[Urgency.SOON]} trong 2 ngày làm việc tới."]
                              if working else [])
    # Through the outbox too, and in the app's list.
    assert conn.exec_driver_sql("SELECT count(*) FROM outbox_message WHERE recipient = %(r)s "
                                "AND body LIKE %(b)s", {"r": officer.phone,
                                "b": f"Hồ sơ {codes[overdue]} đã quá hạn%"}).scalar_one() == 1
    listed = client.get("/api/office/notices?unread=true", headers=officer.headers()).json()
    assert {n["body"] for n in listed} == notices
    read = client.post("/api/office/notices/read", json={"up_to": listed[0]["id"]},
                       headers=officer.headers())
    assert read.status_code == 204
    assert client.get("/api/office/notices?unread=true", headers=officer.headers()
                      ).json() == []


def test_two_workers_claim_one_reminder_once(engine: Engine) -> None:
    phone = "+8493" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as setup:
        person = setup.exec_driver_sql(
            "INSERT INTO person (phone, display_name, password_hash) VALUES (%(p)s, 'Thử', "
            "'x') RETURNING id", {"p": phone}).scalar_one()
    claimed: list[bool] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        with engine.begin() as own:
            barrier.wait()
            claimed.append(Reminders(own).once("overdue", "dossier", 1, person, today()))
            threading.Event().wait(0.2)  # the other waits on the first's uncommitted row

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(claimed) == [False, True]
    finally:
        with engine.begin() as cleanup:
            cleanup.exec_driver_sql("DELETE FROM office_reminder WHERE person_id = %(p)s",
                                    {"p": person})
            cleanup.exec_driver_sql("DELETE FROM person WHERE id = %(p)s", {"p": person})


def test_the_forecast_weighs_load_pace_and_leave_and_suggests_better_hands(
        client: TestClient, conn: Connection, world: World) -> None:
    day = today()
    calendar = calendar_of(conn, URBAN, day.year - 1, day.year + 1)
    officer = world.actors["officer"]
    spare = build_officer(conn)
    # The officer holds ten dossiers due in three working days and is away for the next two.
    due = calendar.add_working_days(day, 3)
    held = [_received(conn, world, due) for _ in range(10)]
    for dossier in held:
        etag = client.get(f"/api/dossiers/{dossier}", headers=world.actors["leader"].headers()
                          ).headers["etag"]
        client.post("/api/office/assignments", json={
            "kind": "dossier", "id": dossier, "assignee_id": officer.person_id},
            headers={**world.actors["leader"].headers(), "If-Match": etag})
    away = datetime.combine(day + timedelta(days=1), time(7), VIETNAM)
    client.post("/api/office/calendar", json={
        "kind": "leave", "title": "Nghỉ phép", "starts_at": away.isoformat(),
        "ends_at": (away + timedelta(days=2)).isoformat()}, headers=officer.headers())
    assert client.get("/api/office/forecast", headers=officer.headers()).status_code == 403
    answer = client.get("/api/office/forecast", headers=world.actors["leader"].headers())
    assert answer.status_code == 200, answer.text
    found = answer.json()
    loads = {o["person_id"]: o for o in found["officers"]}
    assert loads[officer.person_id]["open"] == 10
    assert loads[officer.person_id]["leave_days"] >= 2
    assert loads[spare]["open"] == 0
    risk = {i["id"]: i["chance"] for i in found["items"] if i["kind"] == "dossier"}
    assert min(risk[d] for d in held) > 0.5  # ten items, a slow pace, two days away
    moves = [s for s in found["suggestions"] if s["id"] in held]
    assert moves
    # To an idle officer (ours, or one the web app's tests left with nothing), for the better.
    assert all(loads[s["to_id"]]["open"] == 0 and s["chance_after"] < s["chance_now"]
               for s in moves)
    # Accepting one is an assignment.
    first = moves[0]
    taken = client.post("/api/office/assignments", json={
        "kind": first["kind"], "id": first["id"], "assignee_id": first["to_id"]},
        headers={**world.actors["leader"].headers(), "If-Match": first["etag"]})
    assert taken.status_code == 200, taken.text


def build_officer(conn: Connection) -> int:
    """Another officer of the urban department, in my ward, with nothing to do."""
    person = conn.exec_driver_sql(
        "INSERT INTO person (phone, display_name, password_hash) VALUES (%(p)s, 'Cán Bộ Rảnh', "
        "'x') RETURNING id",
        {"p": "+8493" + "".join(secrets.choice("0123456789") for _ in range(7))}).scalar_one()
    conn.exec_driver_sql("INSERT INTO role_grant (person_id, role, department, wards) VALUES "
                         "(%(p)s, 'officer', %(d)s, %(w)s)",
                         {"p": person, "d": URBAN, "w": [MY_WARD]})
    return int(person)
