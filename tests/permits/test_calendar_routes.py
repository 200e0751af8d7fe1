"""The calendar over HTTP: public window and due date, administrators' swaps and closures,
refusals, validation naming the field, and the audit trail of every edit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.accounts.world import ECONOMY, URBAN, World, build

WINDOW = "/api/calendar/working-days"
ADD = "/api/calendar/add"
SWAPS = "/api/calendar/swaps"
CLOSURES = "/api/calendar/closures"


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def as_(world: World, name: str) -> dict[str, str]:
    return world.actors[name].headers()


def _field(res: Any) -> str:
    """The field a refusal names: our errors' `field`, or FastAPI's last `loc` item."""
    body = res.json()
    if "field" in body:
        return str(body["field"])
    return str(body["detail"][0]["loc"][-1])


def test_window_around_tet_2026(client: TestClient) -> None:
    res = client.get(WINDOW, params={"from": "2026-02-13", "to": "2026-02-25"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["from"], body["to"], body["department"]) == ("2026-02-13", "2026-02-25", None)
    # Fri 13, Mon 23, Tue 24, Wed 25.
    assert body["working_days"] == 4
    assert [(d["date"], d["kind"]) for d in body["non_working"]] == [
        ("2026-02-14", "weekend"), ("2026-02-15", "weekend"),
        ("2026-02-16", "holiday"), ("2026-02-17", "holiday"), ("2026-02-18", "holiday"),
        ("2026-02-19", "holiday"), ("2026-02-20", "holiday"),
        ("2026-02-21", "weekend"), ("2026-02-22", "weekend")]
    assert body["non_working"][3]["reason"] == "Tết Nguyên Đán"
    assert body["working_weekend_days"] == []


def test_window_shows_the_worked_saturday_of_2_september_2026(client: TestClient) -> None:
    body = client.get(WINDOW, params={"from": "2026-08-21", "to": "2026-09-03"}).json()
    assert [d["date"] for d in body["working_weekend_days"]] == ["2026-08-22"]
    assert "2026-08-31" in [d["date"] for d in body["non_working"]]
    # Fri 21, Sat 22, Mon 24–Fri 28, Thu 3 Sep.
    assert body["working_days"] == 8


def test_due_date(client: TestClient) -> None:
    res = client.get(ADD, params={"start": "2026-02-13", "days": 3})
    assert res.status_code == 200, res.text
    assert res.json() == {"start": "2026-02-13", "days": 3, "department": None,
                          "received": "2026-02-13", "due": "2026-02-25"}
    body = client.get(ADD, params={"start": "2027-02-06", "days": 0}).json()  # Tết 2027
    assert (body["received"], body["due"]) == ("2027-02-11", "2027-02-11")


@pytest.mark.parametrize(("path", "params", "field"), [
    (WINDOW, {"to": "2026-02-25"}, "from"),
    (WINDOW, {"from": "2026-13-01", "to": "2026-12-25"}, "from"),
    (WINDOW, {"from": "2026-02-13", "to": "tomorrow"}, "to"),
    (WINDOW, {"from": "2026-02-13", "to": "2026-02-12"}, "to"),
    (WINDOW, {"from": "2026-01-01", "to": "2028-01-02"}, "to"),
    (WINDOW, {"from": "1890-01-01", "to": "1890-01-02"}, "from"),
    (WINDOW, {"from": "2026-01-01", "to": "2026-01-02", "department": "Urban Mgmt"},
     "department"),
    (ADD, {"start": "2026-02-13", "days": -1}, "days"),
    (ADD, {"start": "2026-02-13", "days": 366}, "days"),
    (ADD, {"start": "2026-02-13", "days": "three"}, "days"),
    (ADD, {"days": 3}, "start"),
    (ADD, {"start": "2099-06-01", "days": 3}, "start"),
])
def test_bad_input_names_the_field(client: TestClient, path: str, params: dict[str, Any],
                                   field: str) -> None:
    res = client.get(path, params=params)
    assert res.status_code == 422, res.text
    assert _field(res) == field


def test_a_window_of_exactly_two_years_is_answered(client: TestClient) -> None:
    res = client.get(WINDOW, params={"from": "2026-01-01", "to": "2028-01-01"})
    assert res.status_code == 200, res.text


def test_admin_adds_and_removes_a_swap(client: TestClient, world: World) -> None:
    admin = as_(world, "administrator")
    off = {"date": "2026-01-02", "kind": "day_off", "reason": "Nghỉ bù Tết Dương lịch",
           "reference": "TB 1/2025"}
    worked = {"date": "2026-01-10", "kind": "working_day", "reason": "Làm bù ngày 2/1"}
    res = client.post(SWAPS, json=off, headers=admin)
    assert res.status_code == 201, res.text
    assert res.json()["reference"] == "TB 1/2025"
    assert client.post(SWAPS, json=worked, headers=admin).status_code == 201
    duplicate = client.post(SWAPS, json={**off, "kind": "working_day"}, headers=admin)
    assert duplicate.status_code == 409
    assert _field(duplicate) == "date"
    # Wed 7 Jan + 3: Thu 8, Fri 9, the worked Saturday 10.
    assert client.get(ADD, params={"start": "2026-01-07", "days": 3}).json()["due"] \
        == "2026-01-10"
    body = client.get(WINDOW, params={"from": "2026-01-01", "to": "2026-01-11"}).json()
    assert ("2026-01-02", "swap") in [(d["date"], d["kind"]) for d in body["non_working"]]
    assert [d["date"] for d in body["working_weekend_days"]] == ["2026-01-10"]
    listed = client.get(SWAPS, params={"year": 2026}, headers=admin).json()
    # With the swap the test world keeps at the end of the year.
    assert [(s["date"], s["kind"]) for s in listed] == [
        ("2026-01-02", "day_off"), ("2026-01-10", "working_day"), ("2026-12-28", "day_off")]
    assert client.get(SWAPS, params={"year": 2027}, headers=admin).json() == []
    assert client.delete(f"{SWAPS}/2026-01-10", headers=admin).status_code == 204
    assert client.delete(f"{SWAPS}/2026-01-10", headers=admin).status_code == 404
    assert client.get(ADD, params={"start": "2026-01-07", "days": 3}).json()["due"] \
        == "2026-01-12"


@pytest.mark.parametrize(("body", "field"), [
    ({"date": "2026-01-02", "kind": "holiday", "reason": "x"}, "kind"),
    ({"date": "2026-01-02", "kind": "day_off", "reason": "   "}, "reason"),
    ({"date": "2026-02-30", "kind": "day_off", "reason": "x"}, "date"),
    ({"date": "2026-01-02", "kind": "day_off", "reason": "x", "who": "me"}, "who"),
    ({"date": "1999-12-31", "kind": "day_off", "reason": "x"}, "date"),
])
def test_bad_swaps_name_the_field(client: TestClient, world: World, body: dict[str, Any],
                                  field: str) -> None:
    res = client.post(SWAPS, json=body, headers=as_(world, "administrator"))
    assert res.status_code == 422, res.text
    assert _field(res) == field


def test_a_closure_applies_to_its_department_only(client: TestClient, world: World) -> None:
    world_closure_day = "2026-12-29"
    admin = as_(world, "administrator")
    closure = {"department": URBAN, "date": "2026-03-09", "reason": "Chuyển trụ sở"}
    res = client.post(CLOSURES, json=closure, headers=admin)
    assert res.status_code == 201, res.text
    closure_id = res.json()["id"]
    duplicate = client.post(CLOSURES, json=closure, headers=admin)
    assert (duplicate.status_code, _field(duplicate)) == (409, "date")
    other = client.post(CLOSURES, json={**closure, "department": ECONOMY, "date": "2026-03-11"},
                        headers=admin)
    assert other.status_code == 201
    # Fri 6 Mar + 1: Mon 9, except for the department closed that day.
    due = {dept: client.get(ADD, params={"start": "2026-03-06", "days": 1,
                                         **({"department": dept} if dept else {})}
                            ).json()["due"] for dept in (URBAN, ECONOMY, None)}
    assert due == {URBAN: "2026-03-10", ECONOMY: "2026-03-09", None: "2026-03-09"}
    window = client.get(WINDOW, params={"from": "2026-03-09", "to": "2026-03-13",
                                        "department": URBAN}).json()
    assert window["non_working"] == [{"date": "2026-03-09", "kind": "closure",
                                      "reason": "Chuyển trụ sở", "reference": None}]
    assert window["working_days"] == 4
    listed = client.get(CLOSURES, params={"department": URBAN}, headers=admin).json()
    # With the closure the test world keeps at the end of the year.
    assert [(c["department"], c["date"]) for c in listed] == [
        (URBAN, "2026-03-09"), (URBAN, world_closure_day)]
    assert client.delete(f"{CLOSURES}/{closure_id}", headers=admin).status_code == 204
    assert client.delete(f"{CLOSURES}/{closure_id}", headers=admin).status_code == 404
    assert client.get(ADD, params={"start": "2026-03-06", "days": 1, "department": URBAN}
                      ).json()["due"] == "2026-03-09"


def test_bad_closure_names_the_field(client: TestClient, world: World) -> None:
    res = client.post(CLOSURES, json={"department": "Phòng QLĐT", "date": "2026-03-09",
                                      "reason": "x"}, headers=as_(world, "administrator"))
    assert (res.status_code, _field(res)) == (422, "department")


EDITS = [
    ("GET", SWAPS, None),
    ("POST", SWAPS, {"date": "2026-01-02", "kind": "day_off", "reason": "x"}),
    ("DELETE", f"{SWAPS}/2026-01-02", None),
    ("GET", CLOSURES, None),
    ("POST", CLOSURES, {"department": URBAN, "date": "2026-03-09", "reason": "x"}),
    ("DELETE", f"{CLOSURES}/1", None),
]


@pytest.mark.parametrize(("method", "url", "body"), EDITS)
def test_only_administrators_edit(client: TestClient, world: World, method: str, url: str,
                                  body: Any) -> None:
    assert client.request(method, url, json=body).status_code == 401
    for name in ("citizen", "officer", "leader", "planner"):
        res = client.request(method, url, json=body, headers=as_(world, name))
        assert res.status_code == 403, (name, res.text)


def test_a_cookie_edit_needs_the_csrf_token(client: TestClient, world: World) -> None:
    admin = world.actors["administrator"]
    res = client.post(SWAPS, json=EDITS[1][2],
                      headers={"Cookie": f"civicmap_session={admin.cookie}"})
    assert res.status_code == 403


def _events(conn: Connection, person_id: int | None, kind: str) -> list[dict[str, Any]]:
    return [row[0] for row in conn.exec_driver_sql(
        "SELECT detail FROM audit_event WHERE person_id IS NOT DISTINCT FROM %(p)s "
        "AND kind = %(k)s ORDER BY id", {"p": person_id, "k": kind})]


def test_every_admin_edit_is_audited(client: TestClient, world: World,
                                     conn: Connection) -> None:
    admin = world.actors["administrator"]
    client.post(SWAPS, json={"date": "2026-01-02", "kind": "day_off", "reason": "x"},
                headers=admin.headers())
    client.delete(f"{SWAPS}/2026-01-02", headers=admin.headers())
    client.get(SWAPS, headers=admin.headers())  # reads are not audited
    events = _events(conn, admin.person_id, "staff_write")
    assert [(e["action"], e["method"], e["route"], e["params"]) for e in events] == [
        ("calendar.edit", "POST", "/api/calendar/swaps", {}),
        ("calendar.edit", "DELETE", "/api/calendar/swaps/{date}", {"date": "2026-01-02"}),
    ]
    row = conn.exec_driver_sql(
        "SELECT count(*) FROM working_day_swap WHERE day = '2026-01-02'").scalar_one()
    assert row == 0
    changes = _events(conn, admin.person_id, "calendar_change")
    assert changes == [
        {"change": "swap_added", "date": "2026-01-02", "swap_kind": "day_off",
         "reference": None},
        {"change": "swap_removed", "date": "2026-01-02"},
    ]


def test_closure_edits_say_what_changed(client: TestClient, world: World,
                                        conn: Connection) -> None:
    admin = world.actors["administrator"]
    closure_id = client.post(CLOSURES, json={"department": ECONOMY, "date": "2026-03-10",
                                             "reason": "Kiểm kê"},
                             headers=admin.headers()).json()["id"]
    client.delete(f"{CLOSURES}/{closure_id}", headers=admin.headers())
    writes = _events(conn, admin.person_id, "staff_write")
    assert [(e["method"], e["params"]) for e in writes] == [
        ("POST", {}), ("DELETE", {"closure_id": str(closure_id)})]
    assert _events(conn, admin.person_id, "calendar_change") == [
        {"change": "closure_added", "closure_id": closure_id, "department": ECONOMY,
         "date": "2026-03-10"},
        {"change": "closure_removed", "closure_id": closure_id, "department": ECONOMY,
         "date": "2026-03-10"},
    ]


def test_a_refused_edit_is_audited_too(client: TestClient, world: World,
                                       conn: Connection) -> None:
    citizen = world.actors["citizen"]
    client.post(SWAPS, json={"date": "2026-01-02", "kind": "day_off", "reason": "x"},
                headers=citizen.headers())
    denials = _events(conn, citizen.person_id, "access_denied")
    assert [(e["status"], e["route"]) for e in denials] == [(403, "/api/calendar/swaps")]
    assert _events(conn, citizen.person_id, "staff_write") == []
