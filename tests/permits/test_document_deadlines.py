"""The deadline an incoming document's text sets (permits/office/deadlines.py), and the officer
taking it on as their own task, with the queue's reminders."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from permits.office.deadlines import deadline_in
from permits.workflow import today
from tests.accounts.world import World, build

ISSUED = date(2026, 12, 1)  # a Tuesday


def _due(start: date, days: int, kind: str) -> date:
    """Calendar days as they are; working days as Monday to Friday (enough for the patterns)."""
    if kind == "calendar":
        return start + timedelta(days=days)
    d = start
    while days:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


@pytest.mark.parametrize(("text", "expected"), [
    ("Đề nghị UBND phường báo cáo trước ngày 20/12/2026.", date(2026, 12, 20)),
    ("gửi về Sở chậm nhất là ngày 05-01-2027", date(2027, 1, 5)),
    ("Hạn chót: ngày 15 tháng 12 năm 2026", date(2026, 12, 15)),
    ("không quá ngày 9.12.2026", date(2026, 12, 9)),
    ("de nghi bao cao truoc ngay 18/12/2026", date(2026, 12, 18)),  # typed without accents
    ("Trong thời hạn 10 ngày làm việc kể từ ngày nhận", date(2026, 12, 15)),
    ("trong vòng 7 ngày", date(2026, 12, 8)),
    # Several limits: the earliest that is still to come.
    ("Báo cáo sơ bộ trước ngày 10/12/2026, báo cáo chính thức trước ngày 30/12/2026",
     date(2026, 12, 10)),
    ("Căn cứ Công văn ngày 01/11/2026 có hạn ngày 15/11/2026; nay báo cáo trước ngày "
     "22/12/2026", date(2026, 12, 22)),
])
def test_the_limit_a_text_sets(text: str, expected: date) -> None:
    assert deadline_in(text, ISSUED, _due) == expected


@pytest.mark.parametrize("text", [
    "Về việc tổ chức hội nghị tổng kết năm 2026",
    "Căn cứ Nghị định số 15/2021/NĐ-CP ngày 03/3/2021",  # a date, but no limit
    "trước ngày 31/02/2027",  # not a date
    "trong thời hạn 0 ngày",
])
def test_no_limit(text: str) -> None:
    assert deadline_in(text, ISSUED, _due) is None


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _document(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    issued = today()
    body = {"direction": "incoming", "number": f"D{issued:%j}{len(changes)}",
            "symbol": "812/UBND-QLĐT", "issued_on": issued.isoformat(),
            "issuer": "Ủy ban nhân dân Thành phố",
            "summary": "Về việc rà soát các công trình xây dựng không phép",
            "doc_type": "Công văn", **changes}
    made = client.post("/api/office/documents", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def test_an_officer_takes_on_the_deadline_as_a_task_in_the_queue(
        client: TestClient, conn: Connection, world: World) -> None:
    officer = world.actors["officer"].headers()
    limit = today() + timedelta(days=20)
    document = _document(client, officer, body_text=(
        f"Đề nghị các phòng báo cáo kết quả rà soát trước ngày {limit:%d/%m/%Y}."))
    assert document["deadline_on"] == limit.isoformat()
    # An outgoing document sets the office no deadline of its own.
    outgoing = _document(client, officer, direction="outgoing", number="DI1", body_text=(
        f"Đề nghị phường báo cáo trước ngày {limit:%d/%m/%Y}."))
    assert outgoing["deadline_on"] is None

    url = f"/api/office/documents/{document['id']}/task"
    # Only from one's own department's register: another's does not hold it; a citizen has none.
    assert client.post(url, json={}, headers=world.actors["officer2"].headers()
                       ).status_code == 404
    assert client.post(url, json={}, headers=world.actors["citizen"].headers()
                       ).status_code == 403
    past = client.post(url, json={"due_on": (today() - timedelta(days=1)).isoformat()},
                       headers=officer)
    assert (past.status_code, past.json()["field"]) == (422, "due_on")
    made = client.post(url, json={}, headers=officer)
    assert made.status_code == 201, made.text
    task = made.json()
    assert task["due_on"] == limit.isoformat()
    assert task["status"] == "open"
    assert task["title"] == "812/UBND-QLĐT: Về việc rà soát các công trình xây dựng không phép"
    assert task["assignee_id"] == world.actors["officer"].person_id
    # Linked both ways: the document names its task; the task is in the officer's queue.
    listed = client.get("/api/office/documents", params={"q": "ra soat cong trinh"},
                        headers=officer).json()
    mine = next(d for d in listed if d["id"] == document["id"])
    assert {"kind": "task", "ref": str(task["id"]), "found": False} in mine["links"]
    queue = client.get("/api/office/queue", headers=officer).json()
    assert any(i["kind"] == "task" and i["id"] == task["id"] for i in queue)
    again = client.post(url, json={}, headers=officer)
    assert (again.status_code, again.json()["field"]) == (409, "document_id")
    events = conn.exec_driver_sql(
        "SELECT action, actor_id FROM office_task_event WHERE task_id = %(t)s",
        {"t": task["id"]}).all()
    assert [(e.action, e.actor_id) for e in events] == [
        ("take_on", world.actors["officer"].person_id)]


def test_a_document_without_a_deadline_takes_the_officers_date(
        client: TestClient, world: World) -> None:
    officer = world.actors["officer"].headers()
    document = _document(client, officer, number="D-no-limit")
    assert document["deadline_on"] is None
    url = f"/api/office/documents/{document['id']}/task"
    none = client.post(url, json={}, headers=officer)
    assert (none.status_code, none.json()["field"]) == (422, "due_on")
    when = today() + timedelta(days=5)
    made = client.post(url, json={"due_on": when.isoformat(), "title": "Rà soát công trình"},
                       headers=officer)
    assert made.status_code == 201, made.text
    assert (made.json()["due_on"], made.json()["title"]) == (when.isoformat(),
                                                            "Rà soát công trình")
    assert client.post("/api/office/documents/999999999/task", json={},
                       headers=officer).status_code == 404
