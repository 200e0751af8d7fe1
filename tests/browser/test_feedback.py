"""Citizen reports in Chromium: a report written offline is kept on the phone and arrives once
(its photo too) when the connection is back, then asks for its code; and the whole path from a
long press on the map through the officer's question, the answer, the closing and the
reopening (an unhappy rating asks for it)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import Engine

from accounts.service import GrantSpec
from bench.page import wait_for
from permits.documents.storage import FileStore
from permits.feedback.photos import PhotoService
from tests.browser.test_dossiers import _as, _person, pages  # noqa: F401
from tests.conftest import LIVE_ENV
from tests.permits.document_files import jpeg

LON, LAT = 106.7195, 10.7335  # the map's centre, in the district
# The place tests/permits/document_files.py writes into a photo's EXIF: 10°44'2.5" N,
# 106°43'1.5" E.
PHOTO_LAT, PHOTO_LON = 10 + 44 / 60 + 2.5 / 3600, 106 + 43 / 60 + 1.5 / 3600


def _eventually(probe: Callable[[], Any], page: Page, timeout: float = 20) -> Any:
    """The probe's first truthy answer; the page's route handlers run while it waits."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(200)


def _reports(engine: Engine, description: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.exec_driver_sql(
            "SELECT r.id, r.status, r.reporter_phone, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, "
            "(SELECT count(*) FROM feedback_photo p WHERE p.report_id = r.id) AS photos "
            "FROM feedback_report r WHERE r.description = %(d)s ORDER BY r.id",
            {"d": description}))


def _publish(engine: Engine, report_id: int) -> int:
    """Write the public copies of the report's photos as the queue's blurring job does (run
    here: a worker of its own would share the queue with the tests after this one); how many."""
    store = FileStore(Path(LIVE_ENV["CIVICMAP_FILES_DIR"]))
    with engine.begin() as conn:
        photos = [int(i) for i in conn.exec_driver_sql(
            "SELECT id FROM feedback_photo WHERE report_id = %(r)s", {"r": report_id}).scalars()]
        for photo in photos:
            PhotoService(conn, store).publish(photo)
    return len(photos)


def _code(engine: Engine, report_id: int) -> str:
    with engine.connect() as conn:
        body = conn.exec_driver_sql(
            "SELECT body FROM outbox_message WHERE body LIKE %(b)s ORDER BY id DESC LIMIT 1",
            {"b": f"Mã xác nhận phản ánh số {report_id}:%"}).scalar_one()
    found = re.search(r": (\d{6}) ", body)
    assert found, body
    return found[1]


def _phone() -> str:
    return "097" + "".join(secrets.choice("0123456789") for _ in range(7))


def _status(page: Page, text: str) -> None:
    expect(page.locator("#feedback .feedback-status")).to_contain_text(text, timeout=30_000)


def test_a_report_written_offline_waits_on_the_phone_and_arrives_once_with_its_photo(
        page: Page, live_server: str, engine: Engine, tmp_path: Path) -> None:
    failures: list[str] = []
    page.on("pageerror", lambda e: failures.append(str(e)))
    photo = tmp_path / "o-ga.jpg"
    photo.write_bytes(jpeg(gps=True))
    description = f"Ổ gà sâu trước chợ {secrets.token_hex(3)}"
    page.goto(f"{live_server}/")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    # On a desktop, a right-click offers a report at that place.
    box = page.locator("#map").bounding_box()
    assert box
    page.mouse.click(box["x"] + 100, box["y"] + 200, button="right")
    offer = page.locator("#feedback-here")
    expect(offer.get_by_role("link", name="Phản ánh tại đây")).to_be_visible()
    offer.get_by_role("button", name="Đóng").click()
    expect(offer).to_have_count(0)
    # The locate-me position offers one where the phone is.
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": LAT, "longitude": LON})
    page.get_by_role("button", name="Vị trí của tôi").click()
    offer.get_by_role("link", name="Phản ánh tại vị trí của tôi").click()
    form = page.locator("#feedback-new")
    expect(page.locator("#feedback-place")).to_have_text(f"Vị trí: {LAT:.5f}, {LON:.5f}")
    expect(form.get_by_role("heading", name="Phản ánh tại đây")).to_be_visible(timeout=30_000)
    expect(page.locator("#feedback-category option[value=roads]")).to_have_count(1)
    page.get_by_label("Loại phản ánh").select_option("roads")
    page.get_by_label("Nội dung phản ánh").fill(description)
    page.locator("#feedback-gallery").set_input_files(photo)
    expect(form.locator(".feedback-thumbs img")).to_have_count(1)
    # The photo's EXIF holds its place, read in the browser: the report may be put there.
    form.get_by_role("button", name="Dùng vị trí trong ảnh").click()
    expect(page.locator("#feedback-place")).to_contain_text(f"{PHOTO_LAT:.5f}, {PHOTO_LON:.5f}")
    expect(page.locator("#feedback-privacy")).to_have_text(
        "Phòng ban luôn biết ai gửi phản ánh; công chúng chỉ thấy tên bạn nếu bạn cho phép.")
    page.get_by_label("Số điện thoại hoặc email (để nhận mã xác nhận)").fill(_phone())

    page.context.set_offline(True)
    form.get_by_role("button", name="Gửi phản ánh").click()
    expect(page.locator("#feedback-waiting")).to_contain_text(
        "Đang chờ kết nối — sẽ tự gửi", timeout=30_000)
    time.sleep(1)
    assert _reports(engine, description) == []
    # Back to the map: the phone keeps the report, and asks for its code when it has gone.
    page.locator("#feedback-new").get_by_role("button", name="Đóng").click()
    expect(page.locator("#feedback-new")).to_have_count(0)
    # The first try after the connection returns reaches the server, but its answer is lost
    # on the way back: the phone still holds the report, and sends it again with the same
    # Idempotency-Key (at the next `online` event, or the app's start).
    keys: list[str] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) > 1:
            route.continue_()
            return
        route.fetch()
        route.abort("connectionreset")

    page.route("**/api/feedback", lose_first_answer)
    page.context.set_offline(False)
    assert _eventually(lambda: keys and len(_reports(engine, description)) == 1, page)
    if len(keys) == 1:  # not sent again yet (by the map's first idle): offline, online
        page.context.set_offline(True)
        page.context.set_offline(False)
    expect(page.locator("#feedback-confirm")).to_be_visible(timeout=30_000)  # it needs its code
    assert _eventually(lambda: _reports(engine, description)[0].photos == 1, page)
    rows = _reports(engine, description)
    assert len(rows) == 1, rows
    assert len(keys) == 2, keys
    assert keys[0] == keys[1]  # the same key: the server answered the replay as the first
    report = rows[0]
    assert report.status == "unconfirmed"
    assert (round(report.lon, 5), round(report.lat, 5)) == (round(PHOTO_LON, 5),
                                                           round(PHOTO_LAT, 5))
    page.get_by_label("Mã xác nhận").fill(_code(engine, report.id))
    page.get_by_role("button", name="Xác nhận").click()
    _status(page, "Đã tiếp nhận")
    expect(page.locator("#feedback-title")).to_have_text(f"Phản ánh số {report.id}")
    # A new start of the app sends nothing again: nothing is left on the phone.
    page.goto(f"{live_server}/#/feedback/mine")
    expect(page.locator(f"#feedback [data-report='{report.id}']")).to_contain_text("Đã tiếp nhận",
                                                                                  timeout=30_000)
    time.sleep(1)
    assert len(_reports(engine, description)) == 1
    assert page.evaluate("localStorage.getItem('civicmap-feedback-pending')") is None
    assert failures == []


def _long_press(page: Page, x: float, y: float) -> None:
    """A finger held still on the screen for 700 ms (Chrome's touch events, as a phone's)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    time.sleep(0.7)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_long_press_report_question_answer_closing_and_reopening(
        browser: Browser, pages: list[Page], live_server: str, engine: Engine,  # noqa: F811
        tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 412, "height": 860}, is_mobile=True,
                                  has_touch=True)
    citizen = context.new_page()
    officer = pages[1]
    failures: list[str] = []
    citizen.on("pageerror", lambda e: failures.append(str(e)))
    photo = tmp_path / "nap-cong.jpg"
    photo.write_bytes(jpeg(gps=False))
    description = f"Nắp cống vỡ trước số 12 {secrets.token_hex(3)}"
    try:
        citizen.goto(f"{live_server}/")
        wait_for(citizen, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
        box = citizen.locator("#map").bounding_box()
        assert box
        _long_press(citizen, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        offer = citizen.locator("#feedback-here")
        offer.get_by_role("link", name="Phản ánh tại đây").click()
        form = citizen.locator("#feedback-new")
        expect(form.get_by_role("heading", name="Phản ánh tại đây")).to_be_visible()
        assert citizen.locator("#feedback-camera").get_attribute("capture") == "environment"
        expect(citizen.locator("#feedback-category option[value=manholes]")).to_have_count(1)
        citizen.get_by_label("Loại phản ánh").select_option("manholes")
        citizen.get_by_label("Nội dung phản ánh").fill(description)
        citizen.locator("#feedback-camera").set_input_files(photo)
        expect(form.get_by_role("button", name="Dùng vị trí trong ảnh")).to_have_count(0)
        citizen.get_by_label("Cho phép công khai tên của tôi").check()
        citizen.get_by_label("Họ và tên").fill("Đặng Văn Phản Ánh")
        phone = _phone()
        citizen.get_by_label("Số điện thoại hoặc email (để nhận mã xác nhận)").fill(phone)
        form.get_by_role("button", name="Gửi phản ánh").click()
        expect(citizen.locator("#feedback-confirm")).to_be_visible(timeout=30_000)
        report = _eventually(lambda: [r for r in _reports(engine, description) if r.photos],
                             citizen)[0]
        citizen.get_by_label("Mã xác nhận").fill(_code(engine, report.id))
        citizen.get_by_role("button", name="Xác nhận").click()
        _status(citizen, "Đã tiếp nhận")
        expect(citizen.locator("#feedback")).to_contain_text("Đặng Văn Phản Ánh")  # allowed
        assert citizen.evaluate("localStorage.getItem('civicmap-feedback-show-name')") == "1"
        # Its photo on the report's page once its public copy is written.
        assert _publish(engine, report.id) == 1
        citizen.reload()
        shown = citizen.locator("#feedback-gallery img")
        expect(shown).to_have_count(1, timeout=30_000)
        assert re.fullmatch(rf"/api/feedback/{report.id}/photos/\d+",
                            shown.get_attribute("src") or "")
        expect(shown).to_have_attribute("alt", "Ảnh 1 (đã che mặt người và biển số xe)")
        wait_for(citizen, "document.querySelector('#feedback-gallery img').naturalWidth > 0")

        # On the public list (the map's), without the phone.
        listed = citizen.request.get(f"{live_server}/api/feedback", params={
            "bbox": f"{report.lon - .001},{report.lat - .001},{report.lon + .001},"
                    f"{report.lat + .001}"})
        assert report.id in [r["id"] for r in listed.json()]
        assert phone[1:] not in listed.text()

        with engine.connect() as conn:
            ward, department = conn.exec_driver_sql(
                "SELECT ward_code, department FROM feedback_report WHERE id = %(i)s",
                {"i": report.id}).one()
        token, _ = _person(engine, "Cán Bộ Đô Thị", GrantSpec("officer", department, (ward,)))
        _as(officer, live_server, token, f"#/feedback/{report.id}")
        staff = officer.locator("#feedback .feedback-staff")
        expect(staff).to_contain_text(phone[1:], timeout=30_000)  # the department sees who
        staff.get_by_role("button", name="Bắt đầu xử lý").click()
        _status(officer, "Đang xử lý")
        ask = officer.locator(".dossier-move[data-action='ask']")
        ask.get_by_label("Nội dung").fill("Nắp cống ở phía bên nào của đường?")
        ask.get_by_role("button", name="Hỏi người phản ánh").click()
        _status(officer, "Chờ người phản ánh trả lời")

        # The citizen answers from the report's page (anonymous: with the report's token).
        citizen.reload()
        _status(citizen, "Chờ người phản ánh trả lời")
        reply = citizen.locator(".dossier-move[data-action='reply']")
        reply.get_by_label("Câu trả lời của bạn").fill("Bên trái, sát lề")
        reply.get_by_role("button", name="Gửi câu trả lời").click()
        _status(citizen, "Đang xử lý")

        officer.reload()
        close = officer.locator(".dossier-move[data-action='close']")
        close.get_by_label("Lý do đóng").select_option("fixed")
        close.get_by_label("Nội dung").fill("Đã thay nắp cống mới")
        close.get_by_role("button", name="Đóng phản ánh").click()
        _status(officer, "Đã đóng")
        expect(officer.locator("#feedback-closing")).to_contain_text("Đã khắc phục")

        # Not fixed: an unhappy rating asks whether to reopen; the citizen does, with a reason.
        citizen.reload()
        _status(citizen, "Đã đóng")
        expect(citizen.locator(".feedback-timeline")).to_contain_text("Đã thay nắp cống mới")
        citizen.get_by_role("button", name="2 sao").click()
        expect(citizen.locator(".feedback-unhappy")).to_have_text(
            "Vấn đề chưa được giải quyết? Bạn có muốn mở lại phản ánh?")
        reopen = citizen.locator(".dossier-move[data-action='reopen']")
        reopen.get_by_label("Lý do mở lại (vấn đề chưa được khắc phục)").fill("Nắp mới đã lại vỡ")
        reopen.get_by_role("button", name="Mở lại phản ánh").click()
        _status(citizen, "Đang xử lý")
        # Moderation: the officer hides the description, with a reason; the public sees why.
        officer.reload()
        hide = officer.locator(".dossier-move[data-action='hide']")
        hide.get_by_label("Lý do ẩn (nội dung xúc phạm, thông tin cá nhân)").fill(
            "Có số điện thoại cá nhân")
        hide.get_by_role("button", name="Ẩn nội dung").click()
        expect(officer.locator(".dossier-move[data-action='show']")).to_be_visible()
        citizen.reload()
        expect(citizen.locator("#feedback-text")).to_have_text(
            "Nội dung đã được ẩn theo quy định", timeout=30_000)
        expect(citizen.locator("#feedback")).not_to_contain_text(description)
        with engine.connect() as conn:
            status, rating = conn.exec_driver_sql(
                "SELECT status, rating FROM feedback_report WHERE id = %(i)s",
                {"i": report.id}).one()
        assert (status, rating) == ("in_progress", 2)
        assert failures == []
    finally:
        context.close()


def _parcel_with_its_middle_in_a_ward(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql(
            "SELECT p.parcel_key FROM parcel p WHERE EXISTS (SELECT 1 FROM admin_unit w "
            "WHERE w.level = 'ward' AND w.valid_to IS NULL AND ST_Intersects(w.geom, "
            "ST_Centroid(ST_Envelope(p.geom)))) ORDER BY p.id OFFSET 40 LIMIT 1").scalar_one())


def test_from_a_parcel_card_signed_in_then_a_me_too_instead_of_a_duplicate(
        page: Page, live_server: str, engine: Engine, tmp_path: Path) -> None:
    failures: list[str] = []
    page.on("pageerror", lambda e: failures.append(str(e)))
    token, _ = _person(engine, "Huỳnh Thị Công Dân", None)
    key = _parcel_with_its_middle_in_a_ward(engine)
    first, second = tmp_path / "mot.jpg", tmp_path / "hai.jpg"
    first.write_bytes(jpeg(gps=False))
    second.write_bytes(jpeg(gps=False, comment=b"another"))
    description = f"Đang xây thêm tầng 5 không có giấy phép {secrets.token_hex(3)}"
    _as(page, live_server, token, f"#/parcel/{key}")
    page.locator("#sheet").get_by_role(
        "link", name="Phản ánh xây dựng không phép tại thửa này").click()
    form = page.locator("#feedback-new")
    expect(page.locator("#feedback-place")).to_contain_text(f"Thửa đất: {key}", timeout=30_000)
    expect(page.get_by_label("Loại phản ánh")).to_have_value("construction-without-permit")
    expect(page.get_by_label("Họ và tên")).to_have_value("Huỳnh Thị Công Dân")  # the account's
    expect(form.get_by_label("Số điện thoại hoặc email (để nhận mã xác nhận)")).to_have_count(0)
    page.get_by_label("Nội dung phản ánh").fill(description)
    page.locator("#feedback-gallery").set_input_files(first)
    form.get_by_role("button", name="Gửi phản ánh").click()
    _status(page, "Đã tiếp nhận")  # signed in: no code
    original = _eventually(lambda: [r for r in _reports(engine, description) if r.photos],
                           page)[0]
    with engine.connect() as conn:
        parcel_key, reporter = conn.exec_driver_sql(
            "SELECT r.parcel_key, p.display_name FROM feedback_report r JOIN person p "
            "ON p.id = r.reporter_id WHERE r.id = %(i)s", {"i": original.id}).one()
    assert (parcel_key, reporter) == (key, "Huỳnh Thị Công Dân")
    expect(page.locator("#feedback")).to_contain_text("giấy phép xây dựng")  # for the parcel

    # The same place and kind again: the report just sent is offered, and joined.
    page.goto(f"{live_server}/#/parcel/{key}")
    page.locator("#sheet").get_by_role(
        "link", name="Phản ánh xây dựng không phép tại thửa này").click()
    expect(page.locator("#feedback-place")).to_contain_text(key, timeout=30_000)
    expect(page.get_by_label("Loại phản ánh")).to_have_value("construction-without-permit")
    page.locator("#feedback-camera").set_input_files(second)
    form.get_by_role("button", name="Gửi phản ánh").click()
    offered = form.locator(f".feedback-nearby [data-report='{original.id}']")
    expect(form.locator(".feedback-nearby h3")).to_have_text("Có phải một trong số này?")
    offered.get_by_role("button", name="Tôi cũng gặp").click()
    expect(page.locator("#feedback")).to_contain_text(
        f"Bạn đã cùng phản ánh với phản ánh số {original.id}", timeout=30_000)
    joined_id = int(page.evaluate("location.hash").removeprefix("#/feedback/"))
    with engine.connect() as conn:
        joined = conn.exec_driver_sql(
            "SELECT joined, duplicate_of, status, (SELECT count(*) FROM feedback_photo "
            "WHERE report_id = r.id) AS photos FROM feedback_report r WHERE id = %(i)s",
            {"i": joined_id}).one()
    assert tuple(joined) == (True, original.id, "closed", 1)
    assert len(_reports(engine, description)) == 1  # no duplicate of the original

    page.goto(f"{live_server}/#/feedback/{original.id}")
    expect(page.locator("#feedback-voices")).to_have_text("1 người cùng phản ánh",
                                                          timeout=30_000)
    page.goto(f"{live_server}/#/feedback/mine")
    mine = page.locator("#feedback .feedback-mine")
    expect(mine.locator(f"[data-report='{original.id}']")).to_contain_text("Đã tiếp nhận",
                                                                           timeout=30_000)
    expect(mine.locator(f"[data-report='{joined_id}']")).to_have_count(1)
    assert failures == []


def test_a_report_on_the_map_opens_when_tapped_and_a_cluster_zooms_in(
        page: Page, live_server: str, engine: Engine) -> None:
    token, _ = _person(engine, "Mai Văn Bản Đồ", None)
    page.context.add_cookies([{"name": "civicmap_session", "value": token, "url": live_server}])
    csrf = page.request.get(f"{live_server}/api/me").json()["csrf_token"]
    ids = []
    for east in (0, 0.0004):  # two reports 40 m apart: one cluster when zoomed out
        sent = page.request.post(f"{live_server}/api/feedback", data={
            "category": "trees", "description": "Cây đổ chắn lối đi", "lon": LON + east,
            "lat": LAT}, headers={"X-CSRF-Token": csrf, "Idempotency-Key": secrets.token_hex(16)})
        assert sent.status == 201, sent.text()
        ids.append(sent.json()["id"])
    page.goto(f"{live_server}/")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    if not page.evaluate("Boolean(window.__civicmap.map.getLayer('feedback-points'))"):
        pytest.skip("the style has no reports layer (tiles/style.py) yet")
    shown = ("window.__civicmap.map.queryRenderedFeatures({layers: ['{layer}']})"
             ".some((f) => {test})")
    wait_for(page, shown.replace("{layer}", "feedback-points")
             .replace("{test}", f"f.properties.id === {ids[0]}"))
    box = page.locator("#map").bounding_box()
    assert box
    x, y = page.evaluate(f"(() => {{ const p = window.__civicmap.map.project([{LON}, {LAT}]);"
                         " return [p.x, p.y]; })()")
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page.locator("#feedback-title")).to_have_text(f"Phản ánh số {ids[0]}",
                                                         timeout=30_000)
    page.locator("#feedback").get_by_role("button", name="Đóng").click()
    # Zoomed out, reports are clusters: a tap on one zooms in, and opens no report.
    page.evaluate(f"window.__civicmap.map.jumpTo({{center: [{LON}, {LAT}], zoom: 12.5}})")
    wait_for(page, shown.replace("{layer}", "feedback-clusters").replace("{test}", "true"))
    x, y = page.evaluate("(() => { const [f] = window.__civicmap.map.queryRenderedFeatures("
                         "{layers: ['feedback-clusters']}); const p = window.__civicmap.map"
                         ".project(f.geometry.coordinates); return [p.x, p.y]; })()")
    page.mouse.click(box["x"] + x, box["y"] + y)
    wait_for(page, "window.__civicmap.map.getZoom() > 14.4")
    expect(page.locator("#feedback")).to_have_count(0)
