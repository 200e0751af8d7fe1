"""Citizen feedback, first part: a report from the map, confirmed by a one-time code (or sent
from an account), routed to its category's department with a deadline in working days, and
public only once confirmed, never with the reporter's contact, with a name only if allowed."""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Connection

from core.workdays import WorkingCalendar
from permits.workflow import today
from tests.accounts.world import MY_WARD, World, build
from tests.permits.document_files import jpeg

LON, LAT = 106.7195, 10.7335  # inside the district (the map's centre)


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _send(client: TestClient, expect: int = 201, headers: dict[str, str] | None = None,
          key: str | None = None, **body: Any) -> Any:
    payload = {"category": "roads", "description": "Ổ gà lớn giữa đường", "lon": LON,
               "lat": LAT, "name": "Lý Thị Phản Ánh", "phone": "0912345678", **body}
    answer = client.post("/api/feedback", json=payload, headers={
        **(headers or {}), "Idempotency-Key": key or secrets.token_hex(16)})
    assert answer.status_code == expect, answer.text
    return answer.json()


def _code(conn: Connection, report_id: int) -> str:
    body = conn.exec_driver_sql(
        "SELECT body FROM outbox_message WHERE body LIKE %(b)s ORDER BY id DESC LIMIT 1",
        {"b": f"Mã xác nhận phản ánh số {report_id}:%"}).scalar_one()
    found = re.search(r": (\d{6}) ", body)
    assert found, body
    return found[1]


def test_categories_route_to_departments_with_deadlines(client: TestClient) -> None:
    categories = {c["code"]: c for c in client.get("/api/feedback/categories").json()}
    assert len(categories) == 13
    assert categories["drainage-flooding"]["department"] == "urban-management"
    assert categories["construction-without-permit"]["about_parcel"] is True
    assert all(1 <= c["response_days"] <= 90 for c in categories.values())


def test_an_anonymous_report_is_public_only_once_confirmed_and_never_with_a_contact(
        client: TestClient, conn: Connection) -> None:
    sent = _send(client)
    assert sent["needs_code"] is True
    assert sent["status"] == "unconfirmed"
    report = f"/api/feedback/{sent['id']}"
    assert client.get(report).status_code == 404
    assert sent["id"] not in [r["id"] for r in client.get("/api/feedback").json()]
    code = _code(conn, sent["id"])
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(f"{report}/confirm", json={"code": wrong})
    assert refused.status_code == 422
    assert refused.json()["field"] == "code"
    confirmed = client.post(f"{report}/confirm", json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    public = confirmed.json()
    assert public["status"] == "received"
    assert public["reporter_name"] is None  # not allowed to be shown
    # The deadline: the category's working days, counted on the department's calendar.
    days = client.get("/api/feedback/categories").json()
    response_days = next(c["response_days"] for c in days if c["code"] == "roads")
    start = today()
    calendar = WorkingCalendar.for_years(start.year, start.year + 1)
    assert public["due_on"] == calendar.add_working_days(start, response_days).isoformat()
    assert public["late"] is False
    # Listed, and nothing of the reporter anywhere public.
    listed = client.get("/api/feedback", params={"bbox": f"{LON - .01},{LAT - .01},"
                                                        f"{LON + .01},{LAT + .01}"})
    assert sent["id"] in [r["id"] for r in listed.json()]
    for text in (client.get(report).text, listed.text):
        for secret in ("Lý Thị Phản Ánh", "0912345678", "+84912345678"):
            assert secret not in text
    # The code is spent.
    assert client.post(f"{report}/confirm", json={"code": code}).status_code == 404


def test_a_name_is_shown_only_when_allowed_and_a_phone_never(
        client: TestClient, conn: Connection) -> None:
    sent = _send(client, show_name=True)
    client.post(f"/api/feedback/{sent['id']}/confirm", json={"code": _code(conn, sent["id"])})
    public = client.get(f"/api/feedback/{sent['id']}")
    assert public.json()["reporter_name"] == "Lý Thị Phản Ánh"
    assert "0912345678" not in public.text
    assert "+84912345678" not in public.text


def test_a_signed_in_citizen_needs_no_code(client: TestClient, conn: Connection,
                                          world: World) -> None:
    citizen = world.actors["citizen"]
    sent = _send(client, headers=citizen.headers(), phone=None)
    assert (sent["status"], sent["needs_code"]) == ("received", False)
    reporter = conn.exec_driver_sql("SELECT reporter_id FROM feedback_report WHERE id = %(i)s",
                                    {"i": sent["id"]}).scalar_one()
    assert reporter == citizen.person_id
    # A session's cookie without its CSRF token sends nothing in that person's name.
    forged = {"Cookie": citizen.headers()["Cookie"]}
    assert _send(client, 403, headers=forged, phone=None)["field"] == "X-CSRF-Token"


def test_bad_reports_are_refused_naming_the_field_and_nothing_is_written(
        client: TestClient, conn: Connection) -> None:
    before = conn.exec_driver_sql("SELECT count(*) FROM feedback_report").scalar_one()
    assert _send(client, 422, category="ufo")["field"] == "category"
    assert _send(client, 422, lon=105.0, lat=21.0)["field"] == "lat"  # Hà Nội
    assert _send(client, 422, category="construction-without-permit")["field"] == "parcel_key"
    assert _send(client, 422, phone=None)["field"] == "phone"
    assert _send(client, 422, phone="12345")["field"] == "phone"
    assert _send(client, 422, description="", phone="0912000999")["field"] == "description"
    assert _send(client, 422, description="x" * 4001)["detail"][0]["loc"] == \
        ["body", "description"]
    assert conn.exec_driver_sql("SELECT count(*) FROM feedback_report").scalar_one() == before


def test_the_same_key_sends_one_report(client: TestClient, conn: Connection) -> None:
    key = secrets.token_hex(16)
    first = _send(client, key=key)
    again = _send(client, key=key)
    assert again["id"] == first["id"]
    assert conn.exec_driver_sql("SELECT count(*) FROM feedback_report WHERE id >= %(i)s",
                                {"i": first["id"]}).scalar_one() == 1


def _in_ward(conn: Connection, ward: str) -> tuple[float, float]:
    x, y = conn.exec_driver_sql(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_unit "
        "WHERE level = 'ward' AND valid_to IS NULL AND code = %(w)s) s", {"w": ward}).one()
    return float(x), float(y)


class Desk:
    """One person moving one report, carrying its ETag."""

    def __init__(self, client: TestClient, world: World, report_id: int) -> None:
        self.client, self.world, self.url = client, world, f"/api/feedback/{report_id}"

    def act(self, who: str, action: str, expect: int = 200, **body: Any) -> Any:
        etag = self.client.get(self.url).headers["etag"]
        answer = self.client.post(f"{self.url}/actions", json={"action": action, **body},
                                  headers={**self.world.actors[who].headers(), "If-Match": etag})
        assert answer.status_code == expect, answer.text
        return answer.json()


def test_asked_answered_closed_honestly_and_reopened(client: TestClient, conn: Connection,
                                                     world: World) -> None:
    lon, lat = _in_ward(conn, MY_WARD)
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat, category="manholes")
    desk = Desk(client, world, sent["id"])
    desk.act("officer2", "start", 403)  # another department, another ward
    assert desk.act("officer", "start")["status"] == "in_progress"
    desk.act("officer", "ask", 409)  # a question needs its text
    desk.act("officer", "ask", note="Nắp cống ở trước số nhà nào?")
    desk.act("citizen2", "reply", 404, note="Không phải của tôi")
    assert desk.act("citizen", "reply", note="Trước số 12")["status"] == "in_progress"
    answered = desk.act("officer", "answer", note="Đã giao đội duy tu thay nắp cống")
    assert answered["status"] == "answered"
    assert answered["events"][-1]["note"] == "Đã giao đội duy tu thay nắp cống"
    # Honest closings: each says what it needs.
    assert desk.act("officer", "close", 409)["guards"][0]["guard"] == "closing_given"
    refused = desk.act("officer", "close", 409, closing="not_competent")
    assert "referred" in refused["guards"][0]["reason"]
    assert desk.act("officer", "close", 422, closing="duplicate",
                    duplicate_of=sent["id"])["field"] == "duplicate_of"
    closed = desk.act("officer", "close", closing="not_competent",
                      referred_to="Công ty Thoát nước Đô thị", note="Thuộc công ty thoát nước")
    assert (closed["status"], closed["closing"], closed["referred_to"]) == \
        ("closed", "not_competent", "Công ty Thoát nước Đô thị")
    assert closed["closed_at"]
    # Not fixed: the reporter reopens it with a reason, within 30 days.
    desk.act("citizen", "reopen", 409)
    reopened = desk.act("citizen", "reopen", note="Nắp cống vẫn vỡ")
    assert (reopened["status"], reopened["closing"], reopened["closed_at"]) == \
        ("in_progress", None, None)
    # A stale version is refused.
    stale = client.post(f"/api/feedback/{sent['id']}/actions", json={"action": "answer",
                        "note": "x"}, headers={**world.actors["officer"].headers(),
                                               "If-Match": '"feedback-1-v1"'})
    assert stale.status_code == 412
    # What the reporter said stays between them and the department.
    public = client.get(f"/api/feedback/{sent['id']}").text
    assert "Trước số 12" not in public
    assert "Nắp cống ở trước số nhà nào?" not in public


def test_reopening_waits_no_longer_than_30_days(client: TestClient, conn: Connection,
                                                world: World) -> None:
    lon, lat = _in_ward(conn, MY_WARD)
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat)
    desk = Desk(client, world, sent["id"])
    desk.act("officer", "start")
    desk.act("officer", "close", closing="fixed", note="Đã vá")
    conn.exec_driver_sql("UPDATE feedback_report SET closed_at = now() - interval '31 days' "
                         "WHERE id = %(i)s", {"i": sent["id"]})
    late = desk.act("citizen", "reopen", 409, note="Lại hỏng")
    assert late["guards"][0]["guard"] == "reopen_window"


def test_before_sending_nearby_reports_of_the_kind_are_offered(
        client: TestClient, conn: Connection, world: World) -> None:
    citizen = world.actors["citizen"].headers()
    lon, lat = _in_ward(conn, MY_WARD)
    metre = 1 / 111_320  # a metre of latitude, in degrees
    near = _send(client, headers=citizen, phone=None, lon=lon, lat=lat + 30 * metre)
    far = _send(client, headers=citizen, phone=None, lon=lon, lat=lat + 80 * metre)
    other_kind = _send(client, headers=citizen, phone=None, lon=lon, lat=lat,
                       category="trees")
    closed_long_ago = _send(client, headers=citizen, phone=None, lon=lon, lat=lat + 10 * metre)
    closed_lately = _send(client, headers=citizen, phone=None, lon=lon, lat=lat + 20 * metre)
    unconfirmed = _send(client, lon=lon, lat=lat)
    for report, days in ((closed_long_ago, 31), (closed_lately, 3)):
        desk = Desk(client, world, report["id"])
        desk.act("officer", "start")
        desk.act("officer", "close", closing="fixed", note="Đã vá")
        conn.exec_driver_sql("UPDATE feedback_report SET closed_at = now() - "
                             "make_interval(days => %(d)s) WHERE id = %(i)s",
                             {"d": days, "i": report["id"]})
    offered = client.get("/api/feedback/nearby", params={"category": "roads", "lon": lon,
                                                          "lat": lat}).json()
    ids = [r["id"] for r in offered]
    assert ids == [closed_lately["id"], near["id"]]  # the nearest first
    for left_out in (far, other_kind, closed_long_ago, unconfirmed):
        assert left_out["id"] not in ids


def test_photos_lose_their_exif_and_only_the_reporter_adds_them(
        client: TestClient, conn: Connection, files_dir: Path) -> None:
    sent = _send(client)
    url = f"/api/feedback/{sent['id']}/photos"
    token = {"X-Report-Token": sent["upload_token"]}
    original = jpeg(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it has a place
    assert client.post(url, files={"file": ("a.jpg", original, "image/jpeg")}).status_code \
        == 404  # no token, not signed in: not theirs
    assert client.post(url, files={"file": ("a.jpg", original, "image/jpeg")},
                       headers={"X-Report-Token": "x" * 32}).status_code == 404
    added = client.post(url, files={"file": ("a.jpg", original, "image/jpeg")}, headers=token)
    assert added.status_code == 201, added.text
    kept = files_dir / "sha256" / added.json()["sha256"][:2] / added.json()["sha256"][2:4] / \
        added.json()["sha256"]
    stored = Image.open(kept)
    assert dict(stored.getexif()) == {}
    assert stored.size == (20, 40)  # upright: the photo was taken on its side
    # The same photo again is the same row; a PDF is no photo; five at most.
    again = client.post(url, files={"file": ("b.jpg", original, "image/jpeg")}, headers=token)
    assert again.json()["id"] == added.json()["id"]
    refused = client.post(url, files={"file": ("a.jpg", b"%PDF-1.4 x", "image/jpeg")},
                          headers=token)
    assert refused.status_code == 422
    assert refused.json()["field"] == "file"
    for shade in range(4):
        other = io.BytesIO()
        Image.new("RGB", (8, 8), (shade * 40, 0, 0)).save(other, "PNG")
        assert client.post(url, files={"file": ("p.png", other.getvalue(), "image/png")},
                           headers=token).status_code == 201
    sixth = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(sixth, "PNG")
    assert client.post(url, files={"file": ("p.png", sixth.getvalue(), "image/png")},
                       headers=token).status_code == 409
    assert conn.exec_driver_sql("SELECT count(*) FROM feedback_photo WHERE report_id = %(r)s",
                                {"r": sent["id"]}).scalar_one() == 5
