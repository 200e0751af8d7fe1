"""Citizen feedback, the department's side and what follows a report: "me too" voices and
merged duplicates (followed on the original), the reporter's rating and an anonymous reporter's
token, moderation, the officer's view of a report, flood events, and the removal of contacts a
year after closing."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.notify import OutboxNotifier
from permits.feedback.repository import FeedbackRepository
from permits.feedback.service import FeedbackService
from permits.workflow import today
from tests.accounts.world import MY_WARD, World, build, calendar_of
from tests.permits.document_files import jpeg
from tests.permits.test_feedback import Desk, _code, _in_ward, _send


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


@pytest.fixture
def here(conn: Connection) -> tuple[float, float]:
    return _in_ward(conn, MY_WARD)


def _phone() -> str:
    return "09" + "".join(secrets.choice("0123456789") for _ in range(8))


def _told(conn: Connection, phone: str) -> list[str]:
    """The messages queued for a phone (as the outbox keeps it: +84…)."""
    return [r[0] for r in conn.exec_driver_sql(
        "SELECT body FROM outbox_message WHERE recipient = %(p)s ORDER BY id",
        {"p": "+84" + phone[1:]})]


def _anonymous(client: TestClient, conn: Connection, phone: str, **body: Any) -> Any:
    """An anonymous report, confirmed with its code: (its id, its upload token)."""
    sent = _send(client, phone=phone, **body)
    confirmed = client.post(f"/api/feedback/{sent['id']}/confirm",
                            json={"code": _code(conn, sent["id"])})
    assert confirmed.status_code == 200, confirmed.text
    return sent


def _service(conn: Connection) -> FeedbackService:
    return FeedbackService(FeedbackRepository(conn), OutboxNotifier(conn), b"k")


def test_a_me_too_joins_the_original_and_hears_what_its_reporter_hears(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    original = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                     lat=lat, category="street-lighting", description="Đèn đường tắt cả tuần")
    phone = _phone()
    voice = _anonymous(client, conn, phone, joins=original["id"], description=None,
                       category="street-lighting", lon=lon + 0.0001, lat=lat)
    photo = client.post(f"/api/feedback/{voice['id']}/photos",
                        files={"file": ("anh.jpg", jpeg(), "image/jpeg")},
                        headers={"X-Report-Token": voice["upload_token"]})
    assert photo.status_code == 201, photo.text  # a me-too's optional photo
    joined = client.get(f"/api/feedback/{voice['id']}").json()
    assert (joined["status"], joined["closing"], joined["duplicate_of"], joined["joined"]) == \
        ("closed", "duplicate", original["id"], True)
    assert client.get(f"/api/feedback/{original['id']}").json()["voices"] == 1
    listed = [r["id"] for r in client.get("/api/feedback?limit=500").json()]
    assert original["id"] in listed
    assert voice["id"] not in listed
    # Of another kind, or on a closed report: refused, naming `joins`, nothing written.
    before = conn.exec_driver_sql("SELECT count(*) FROM feedback_report").scalar_one()
    assert _send(client, 422, joins=original["id"], category="roads", lon=lon,
                 lat=lat)["field"] == "joins"
    assert _send(client, 422, joins=10**12, category="street-lighting", lon=lon,
                 lat=lat)["field"] == "joins"
    assert conn.exec_driver_sql("SELECT count(*) FROM feedback_report").scalar_one() == before
    # The department's answer reaches both reporters.
    desk = Desk(client, world, original["id"])
    desk.act("officer", "start")
    desk.act("officer", "answer", note="Đã thay bóng đèn")
    heard = _told(conn, phone)
    assert any(f"Phản ánh số {original['id']} đã có trả lời" in m
               and "Đã thay bóng đèn" in m for m in heard)
    citizen_phone = world.actors["citizen"].phone
    assert any("Đã thay bóng đèn" in r[0] for r in conn.exec_driver_sql(
        "SELECT body FROM outbox_message WHERE recipient = %(p)s", {"p": citizen_phone}))
    desk.act("officer", "close", closing="fixed")
    assert _send(client, 409, joins=original["id"], category="street-lighting", lon=lon,
                 lat=lat, description=None)["field"] == "joins"


def test_a_merged_duplicate_follows_the_original(client: TestClient, conn: Connection,
                                                 world: World, here: tuple[float, float]
                                                 ) -> None:
    lon, lat = here
    first_phone, second_phone = _phone(), _phone()
    first = _anonymous(client, conn, first_phone, lon=lon, lat=lat, category="trees",
                       description="Cây đổ chắn lối đi")
    second = _anonymous(client, conn, second_phone, lon=lon, lat=lat, category="trees",
                        description="Cây ngã trên vỉa hè")
    Desk(client, world, second["id"]).act("officer", "close", closing="duplicate",
                                          duplicate_of=first["id"])
    assert any(f"trùng với phản ánh số {first['id']}" in m for m in _told(conn, second_phone))
    assert client.get(f"/api/feedback/{first['id']}").json()["voices"] == 1
    desk = Desk(client, world, first["id"])
    desk.act("officer", "start")
    desk.act("officer", "close", closing="not_competent",
             referred_to="Công ty Công viên Cây xanh")
    for phone in (first_phone, second_phone):  # the referral reaches both, naming the body
        assert any("đã chuyển đến Công ty Công viên Cây xanh" in m for m in _told(conn, phone))
    # The question goes to the original's reporter alone.
    desk.act("citizen", "reopen", 404, note="x")  # not theirs


def test_the_question_is_for_its_reporter_alone_and_a_token_answers_it(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    phone, other_phone = _phone(), _phone()
    sent = _anonymous(client, conn, phone, lon=lon, lat=lat, category="urban-order",
                      description="Quán lấn chiếm vỉa hè")
    _anonymous(client, conn, other_phone, lon=lon, lat=lat, category="urban-order",
               joins=sent["id"])
    desk = Desk(client, world, sent["id"])
    desk.act("officer", "start")
    desk.act("officer", "ask", note="Nhà số mấy?")
    assert any("Nhà số mấy?" in m for m in _told(conn, phone))
    assert not any("Nhà số mấy?" in m for m in _told(conn, other_phone))
    # The question is on the report's page for its reporter alone.
    page = f"/api/feedback/{sent['id']}"
    assert "Nhà số mấy?" not in client.get(page).text
    mine = client.get(page, headers={"X-Report-Token": sent["upload_token"]})
    assert ("ask", "Nhà số mấy?") in {(e["action"], e["note"]) for e in mine.json()["events"]}
    assert mine.headers["cache-control"] == "private, no-cache"
    url = f"/api/feedback/{sent['id']}/actions"
    wrong = client.post(url, json={"action": "reply", "note": "Số 7"},
                        headers={"X-Report-Token": "not-the-token"})
    assert wrong.status_code in (401, 403), wrong.text
    replied = client.post(url, json={"action": "reply", "note": "Số 7"},
                          headers={"X-Report-Token": sent["upload_token"]})
    assert replied.status_code == 200
    assert replied.json()["status"] == "in_progress"
    # The token is the reporter's, not the department's.
    refused = client.post(url, json={"action": "close", "closing": "fixed"},
                          headers={"X-Report-Token": sent["upload_token"]})
    assert refused.status_code == 403, refused.text


def test_a_closed_report_is_rated_and_an_unhappy_reporter_may_reopen(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat)
    desk = Desk(client, world, sent["id"])
    desk.act("citizen", "rate", 409, rating=5)  # not closed yet
    desk.act("officer", "start")
    desk.act("officer", "close", closing="fixed", note="Đã vá ổ gà")
    assert desk.act("citizen", "rate", 422, rating=6)["detail"][0]["loc"] == ["body", "rating"]
    desk.act("citizen", "rate", 409)  # no rating
    desk.act("citizen2", "rate", 404, rating=1)  # not theirs
    rated = desk.act("citizen", "rate", rating=2, note="Vá ẩu, lại lún")
    assert (rated["status"], rated["rating"]) == ("closed", 2)
    assert desk.act("citizen", "reopen", note="Vá ẩu, lại lún")["status"] == "in_progress"


def test_moderation_hides_a_description_with_its_reason_audited(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat, description="Nhà ông Tư số 0909123456 đổ rác ra đường")
    desk = Desk(client, world, sent["id"])
    desk.act("citizen", "hide", 403, note="x")
    desk.act("officer", "hide", 409)  # a reason is needed
    hidden = desk.act("officer", "hide", note="Có số điện thoại của người khác")
    assert (hidden["hidden"], hidden["description"]) == (True, None)
    assert "0909123456" not in client.get(f"/api/feedback/{sent['id']}").text
    assert "0909123456" not in client.get("/api/feedback?limit=500").text
    staff = client.get(f"/api/feedback/{sent['id']}/staff",
                       headers=world.actors["officer"].headers()).json()
    assert staff["hidden_reason"] == "Có số điện thoại của người khác"
    assert "0909123456" in staff["description"]
    assert {(e["action"], e["visibility"]) for e in staff["events"]} >= {("hide", "staff")}
    assert conn.exec_driver_sql(
        "SELECT count(*) FROM audit_event WHERE kind = 'feedback.hide' "
        "AND detail->>'report_id' = %(i)s", {"i": str(sent["id"])}).scalar_one() == 1
    assert desk.act("officer", "show")["hidden"] is False
    # An internal note stays inside the department.
    desk.act("citizen", "note", 403, note="x")
    desk.act("officer", "note", 409)
    desk.act("officer", "note", note="Chủ nhà đã bị nhắc hai lần")
    assert "Chủ nhà đã bị nhắc" not in client.get(f"/api/feedback/{sent['id']}").text
    staff = client.get(f"/api/feedback/{sent['id']}/staff",
                       headers=world.actors["officer"].headers()).json()
    assert ("note", "internal", "Chủ nhà đã bị nhắc hai lần") in {
        (e["action"], e["visibility"], e["note"]) for e in staff["events"]}


def test_the_officer_sees_the_reporter_and_the_parcels_dossiers(
        client: TestClient, conn: Connection, world: World) -> None:
    parcel = world.parcels[MY_WARD]
    lon, lat = conn.exec_driver_sql(
        "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM parcel "
        "WHERE parcel_key = %(k)s", {"k": parcel}).one()
    sent = _send(client, lon=lon, lat=lat, category="construction-without-permit",
                 parcel_key=parcel, description="Đang xây thêm tầng 5", show_name=False,
                 phone="0912000111")
    client.post(f"/api/feedback/{sent['id']}/confirm", json={"code": _code(conn, sent["id"])})
    public = client.get(f"/api/feedback/{sent['id']}").json()
    assert public["parcel_key"] == parcel
    assert isinstance(public["parcel_permit"], bool)
    url = f"/api/feedback/{sent['id']}/staff"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=world.actors["citizen"].headers()).status_code in (403, 404)
    assert client.get(url, headers=world.actors["officer2"].headers()).status_code in (403,
                                                                                       404)
    seen = client.get(url, headers=world.actors["officer"].headers())
    assert seen.status_code == 200, seen.text
    staff = seen.json()
    assert (staff["reporter_phone"], staff["reporter_name"]) == ("+84912000111",
                                                                 "Lý Thị Phản Ánh")
    assert seen.headers["cache-control"] == "private, no-store"
    codes = {d["code"] for d in staff["parcel_dossiers"]}
    assert codes
    assert codes == {d.code for d in world.dossiers.values()
                               if d.ward == MY_WARD and d.code}
    assert "Lý Thị Phản Ánh" not in client.get(f"/api/feedback/{sent['id']}").text


def test_assigning_names_an_officer_of_the_department(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat)
    desk = Desk(client, world, sent["id"])
    wrong = desk.act("officer", "assign", 422, assignee_id=world.actors["officer2"].person_id)
    assert wrong["field"] == "assignee_id"
    desk.act("leader", "assign", assignee_id=world.actors["officer"].person_id)
    assert conn.exec_driver_sql("SELECT assignee_id FROM feedback_report WHERE id = %(i)s",
                                {"i": sent["id"]}).scalar_one() == \
        world.actors["officer"].person_id


def test_my_reports_are_listed_for_me_alone(client: TestClient, world: World,
                                            here: tuple[float, float]) -> None:
    lon, lat = here
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat)
    mine = client.get("/api/feedback/mine", headers=world.actors["citizen"].headers())
    assert sent["id"] in [r["id"] for r in mine.json()]
    theirs = client.get("/api/feedback/mine", headers=world.actors["citizen2"].headers())
    assert sent["id"] not in [r["id"] for r in theirs.json()]
    assert client.get("/api/feedback/mine").status_code == 401


def test_a_days_flood_reports_nearby_are_one_event_and_its_closing_tells_them_all(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    phones = [_phone() for _ in range(3)]
    a = _anonymous(client, conn, phones[0], lon=lon, lat=lat, category="drainage-flooding",
                   description="Ngập nửa bánh xe")
    b = _anonymous(client, conn, phones[1], lon=lon + 0.002, lat=lat,  # about 220 m away
                   category="drainage-flooding", description="Nước ngập vào nhà")
    road = _anonymous(client, conn, phones[2], lon=lon, lat=lat, category="roads",
                      description="Ổ gà")
    ids = {r["id"]: client.get(f"/api/feedback/{r['id']}").json()["flood_id"]
           for r in (a, b, road)}
    assert ids[a["id"]] is not None
    assert ids[a["id"]] == ids[b["id"]]
    assert ids[road["id"]] is None
    floods = {f["id"]: f for f in client.get("/api/feedback/floods").json()}
    flood = floods[ids[a["id"]]]
    assert (flood["status"], flood["reports"]) == ("open", 2)
    assert flood["geometry"]["type"] == "Polygon"
    url = f"/api/feedback/floods/{flood['id']}/actions"
    assert client.post(url, json={"action": "close"},
                       headers=world.actors["citizen"].headers()).status_code == 403
    stale = client.post(url, json={"action": "close"}, headers={
        **world.actors["officer"].headers(), "If-Match": '"flood-1-v99"'})
    assert stale.status_code == 412
    one = client.get(f"/api/feedback/floods/{flood['id']}")
    assert one.json() == flood
    etag = one.headers["etag"]
    assert etag == f'"flood-{flood["id"]}-v{flood["version"]}"'
    assert client.get("/api/feedback/floods/999999999").status_code == 404
    closed = client.post(url, json={"action": "close", "note": "Nước đã rút"},
                         headers={**world.actors["officer"].headers(), "If-Match": etag})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    for phone in phones[:2]:
        assert any("hết ngập" in m and "Nước đã rút" in m for m in _told(conn, phone))
    assert not any("hết ngập" in m for m in _told(conn, phones[2]))


def test_a_far_flood_report_opens_its_own_event(client: TestClient, conn: Connection,
                                                here: tuple[float, float]) -> None:
    lon, lat = here
    a = _anonymous(client, conn, _phone(), lon=lon, lat=lat, category="drainage-flooding",
                   description="Ngập sâu")
    far = conn.exec_driver_sql(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_unit "
        "WHERE level = 'ward' AND valid_to IS NULL AND NOT ST_DWithin(geom::geography, "
        "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)::geography, 1000) LIMIT 1) s",
        {"x": lon, "y": lat}).first()
    assert far is not None
    b = _anonymous(client, conn, _phone(), lon=far[0], lat=far[1],
                   category="drainage-flooding", description="Ngập sâu")
    first, second = (client.get(f"/api/feedback/{r['id']}").json()["flood_id"] for r in (a, b))
    assert first
    assert second
    assert first != second


def test_a_year_after_closing_the_reporters_contact_is_removed(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    old_phone, new_phone = _phone(), _phone()
    old = _anonymous(client, conn, old_phone, lon=lon, lat=lat, show_name=True)
    new = _anonymous(client, conn, new_phone, lon=lon, lat=lat)
    for sent in (old, new):
        desk = Desk(client, world, sent["id"])
        desk.act("officer", "start")
        desk.act("officer", "close", closing="fixed")
    conn.exec_driver_sql("UPDATE feedback_report SET closed_at = now() - interval '400 days' "
                         "WHERE id = %(i)s", {"i": old["id"]})
    service = _service(conn)
    assert service.remove_old_contacts() >= 1
    row = conn.exec_driver_sql(
        "SELECT reporter_phone, reporter_name, reporter_email, reporter_id, "
        "contact_removed_at FROM feedback_report WHERE id = %(i)s", {"i": old["id"]}).one()
    assert row[:4] == (None, None, None, None)
    assert row[4] is not None
    assert conn.exec_driver_sql("SELECT reporter_phone FROM feedback_report WHERE id = %(i)s",
                                {"i": new["id"]}).scalar_one() == "+84" + new_phone[1:]
    event = conn.exec_driver_sql(
        "SELECT action, visibility, note FROM feedback_event WHERE report_id = %(i)s "
        "ORDER BY id DESC LIMIT 1", {"i": old["id"]}).one()
    assert event[:2] == ("remove_contact", "staff")
    assert "xoá" in event[2]
    assert client.get(f"/api/feedback/{old['id']}").json()["reporter_name"] is None
    assert service.remove_old_contacts() == 0  # done once
    # Followers whose contact is gone hear nothing more.
    assert old_phone not in str(client.get(f"/api/feedback/{old['id']}/staff",
                                           headers=world.actors["officer"].headers()).json())


def test_an_unconfirmed_report_expires_with_its_code(client: TestClient,
                                                     conn: Connection) -> None:
    sent = _send(client, phone=_phone())
    conn.exec_driver_sql("UPDATE feedback_report SET confirm_expires_at = now() - interval "
                         "'1 minute' WHERE id = %(i)s", {"i": sent["id"]})
    assert _service(conn).expire_unconfirmed() >= 1
    assert conn.exec_driver_sql("SELECT status FROM feedback_report WHERE id = %(i)s",
                                {"i": sent["id"]}).scalar_one() == "expired"
    assert client.get(f"/api/feedback/{sent['id']}").status_code == 404


def test_administrators_set_where_a_category_goes_and_its_time(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    admin = world.actors["administrator"].headers()
    url = "/api/feedback/categories/roads"
    version = next(c["version"] for c in client.get("/api/feedback/categories").json()
                   if c["code"] == "roads")
    etag = f'"feedback-category-roads-v{version}"'
    assert client.patch(url, json={"response_days": 2}, headers={
        **world.actors["officer"].headers(), "If-Match": etag}).status_code == 403
    assert client.patch(url, json={"response_days": 2}, headers=admin).status_code == 428
    assert client.patch(url, json={"response_days": 2}, headers={
        **admin, "If-Match": '"feedback-category-roads-v99"'}).status_code == 412
    bad = client.patch(url, json={"department": "no-such-office"},
                       headers={**admin, "If-Match": etag})
    assert (bad.status_code, bad.json()["field"]) == (422, "department")
    assert client.patch(url, json={"response_days": 91}, headers={
        **admin, "If-Match": etag}).status_code == 422
    changed = client.patch(url, json={"response_days": 2}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["response_days"] == 2
    assert changed.headers["etag"] == f'"feedback-category-roads-v{version + 1}"'
    lon, lat = here
    sent = _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon,
                 lat=lat)
    public = client.get(f"/api/feedback/{sent['id']}").json()
    calendar = calendar_of(conn, changed.json()["department"], today().year, today().year + 1)
    assert public["due_on"] == calendar.add_working_days(today(), 2).isoformat()
    assert conn.exec_driver_sql("SELECT count(*) FROM audit_event WHERE kind = "
                                "'feedback.category'").scalar_one() == 1


def test_exports_keep_reporters_hidden_and_formulas_inert(
        client: TestClient, conn: Connection, world: World, here: tuple[float, float]) -> None:
    lon, lat = here
    hidden_phone, shown_phone = _phone(), _phone()
    hidden = _anonymous(client, conn, hidden_phone, lon=lon, lat=lat, name="Trần Ẩn Danh",
                        email="an.danh@example.vn", description="=HYPERLINK(\"x\") ổ gà")
    shown = _anonymous(client, conn, shown_phone, lon=lon, lat=lat, name="Lê Công Khai",
                       show_name=True)
    csv_text = client.get("/api/feedback/export.csv").text
    geojson = client.get("/api/feedback/export.geojson")
    assert geojson.headers["content-type"].startswith("application/geo+json")
    features = {f["id"]: f for f in geojson.json()["features"]}
    assert {hidden["id"], shown["id"]} <= set(features)
    assert features[shown["id"]]["properties"]["reporter_name"] == "Lê Công Khai"
    assert features[hidden["id"]]["properties"]["reporter_name"] is None
    for text in (csv_text, geojson.text):
        for secret in ("Trần Ẩn Danh", "an.danh@example.vn", hidden_phone[1:], shown_phone[1:]):
            assert secret not in text
    assert "Lê Công Khai" in csv_text
    assert "'=HYPERLINK" in csv_text  # a spreadsheet shows it, does not run it
    assert client.get("/api/feedback/export.xlsx").status_code == 422


def test_one_device_cannot_flood_reports(client: TestClient, world: World,
                                         here: tuple[float, float]) -> None:
    lon, lat = here
    device = {**world.actors["citizen"].headers(), "X-Device-Id": secrets.token_hex(8)}
    for _ in range(10):
        _send(client, headers=device, phone=None, lon=lon, lat=lat)
    assert _send(client, 429, headers=device, phone=None, lon=lon, lat=lat)
    _send(client, headers=world.actors["citizen"].headers(), phone=None, lon=lon, lat=lat)
