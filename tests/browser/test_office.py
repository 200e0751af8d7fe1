"""The officers' mode in Chromium: an officer sees an overdue dossier first in the queue and asks
for a supplement from its row, which its applicant sees on their dossier; a leader gives a report
to an officer from the queue and, once the officer has answered it, sees the reports' on-time
figure move on the statistics screen."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine

from accounts.service import GrantSpec
from core.workflow import NOW, SYSTEM, create, fire
from permits.feedback.workflow import FEEDBACK
from permits.workflow import DOSSIER, today
from tests.accounts.world import PERMIT, URBAN, attach_all, complete_answers
from tests.browser.conftest import wait_for
from tests.browser.test_dossiers import WORLD_WARDS, _as, _person, pages  # noqa: F401
from tests.permits.document_files import pdf


def _ward_and_parcel(engine: Engine) -> tuple[str, str]:
    """A ward outside the API tests' world (what this test commits stays out of their lists)
    and a parcel in it."""
    with engine.connect() as conn:
        ward, parcel = conn.exec_driver_sql(
            "SELECT w.code, p.parcel_key FROM parcel p "
            "JOIN admin_unit w ON w.id = p.current_ward_id "
            "WHERE w.code <> ALL(%(w)s) ORDER BY w.code DESC, p.id LIMIT 1",
            {"w": WORLD_WARDS}).one()
    return str(ward), str(parcel)


def _person_id(engine: Engine, phone: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT id FROM person WHERE phone = %(p)s",
                                        {"p": "+84" + phone[1:]}).scalar_one())


def test_an_officer_asks_for_a_supplement_from_the_queue_and_the_citizen_sees_it(
        pages: list[Page], live_server: str, engine: Engine) -> None:  # noqa: F811
    citizen, officer = pages[:2]
    ward, parcel = _ward_and_parcel(engine)
    citizen_token, citizen_phone = _person(engine, "Trần Thị Nộp", None)
    officer_token, _ = _person(engine, "Cán Bộ Hàng Đợi", GrantSpec("officer", URBAN, (ward,)))
    owner = _person_id(engine, citizen_phone)
    code = f"000.00.01.H29-261202-{secrets.randbelow(10**4):04d}"
    with engine.begin() as conn:  # in processing, its return date long past
        made = create(conn, DOSSIER, "create", SYSTEM, {
            "owner_id": owner, "procedure_id": PERMIT, "department": URBAN, "ward_code": ward,
            "parcel_key": parcel, "applicant": {"full_name": "Trần Thị Nộp",
                                                "phone": citizen_phone},
            "answers": complete_answers(conn, PERMIT)}).row_id
        attach_all(conn, made)
        fire(conn, DOSSIER, made, "submit", SYSTEM, values={"code": code})
        fire(conn, DOSSIER, made, "receive", SYSTEM,
             values={"due_on": today() - timedelta(days=400)})
        fire(conn, DOSSIER, made, "start", SYSTEM)
    # Staff reach the officers' mode from their account.
    _as(officer, live_server, officer_token, "#/account")
    officer.get_by_role("link", name="Văn phòng điện tử (cán bộ)").click()
    first = officer.locator("#office .office-group").first
    expect(first.locator("h3")).to_contain_text("Quá hạn", timeout=30_000)
    row = first.locator(".office-item").first
    expect(row).to_contain_text(f"Hồ sơ {code}")
    expect(row.locator(".office-due")).to_contain_text("Quá")
    expect(row).to_contain_text("Phường")
    expect(row.get_by_role("button", name="Từ chối giải quyết")).to_have_count(0)  # leaders'
    # The same queue as dots on the map (our own GeoJSON source), and back to the list.
    officer.locator("#office").get_by_role("button", name="Bản đồ", exact=True).click()
    expect(officer.locator("#office .office-map-count")).to_contain_text("trên bản đồ")
    wait_for(officer, "window.__civicmap.map.getLayer('office-queue-dots') !== undefined",
             timeout=30_000)
    officer.locator("#office").get_by_role("button", name="Danh sách").click()
    row.get_by_role("button", name="Yêu cầu bổ sung").click()
    row.get_by_label("Giấy tờ, nội dung cần bổ sung").fill("Bản sao giấy chứng nhận có chứng thực")
    row.get_by_label("Hạn bổ sung").fill((today() + timedelta(days=10)).isoformat())
    row.get_by_role("button", name="Gửi").click()
    expect(officer.locator("#office-said")).to_contain_text(f"Đã thực hiện: Hồ sơ {code}",
                                                            timeout=30_000)
    # The citizen sees the request, with what is missing, on their dossier's page.
    _as(citizen, live_server, citizen_token, f"#/dossiers/{made}")
    expect(citizen.locator("#dossier .dossier-status")).to_have_text("Yêu cầu bổ sung",
                                                                     timeout=30_000)
    expect(citizen.locator(".dossier-form[data-form='02']")).to_contain_text(
        "Bản sao giấy chứng nhận có chứng thực")


def _figure(page: Page) -> tuple[int, int]:
    """The manholes row of the reports' table: on time / handled."""
    cell = page.locator("#stats-feedback tr[data-key='manholes'] .office-said-cell")
    expect(cell).to_have_count(1, timeout=30_000)
    found = re.match(r"(\d+)/(\d+) = ", cell.inner_text())
    return (int(found[1]), int(found[2])) if found else (0, 0)


def test_a_leader_assigns_a_report_and_sees_the_on_time_figure_move_once_answered(
        pages: list[Page], live_server: str, engine: Engine) -> None:  # noqa: F811
    leader, officer = pages[:2]
    ward, _ = _ward_and_parcel(engine)
    leader_token, _ = _person(engine, "Lãnh Đạo Giao Việc", GrantSpec("leader", URBAN))
    officer_token, officer_phone = _person(engine, "Cán Bộ Được Giao",
                                           GrantSpec("officer", URBAN, (ward,)))
    officer_id = _person_id(engine, officer_phone)
    description = f"Nắp cống bị vỡ {secrets.token_hex(3)}"
    with engine.begin() as conn:  # a confirmed report of the ward, due in three working days
        lon, lat = conn.exec_driver_sql(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_unit "
            "WHERE level = 'ward' AND valid_to IS NULL AND code = %(w)s) s", {"w": ward}).one()
        report = create(conn, FEEDBACK, "send", SYSTEM, {
            "category": "manholes", "description": description, "ward_code": ward,
            "department": URBAN, "reporter_phone": "+84970000111",
            "geom": f"SRID=4326;POINT({lon} {lat})"}).row_id
        fire(conn, FEEDBACK, report, "confirm", SYSTEM,
             values={"confirmed_at": NOW, "due_on": today() + timedelta(days=5)})
    _as(leader, live_server, leader_token, "#/office/stats")
    before = _figure(leader)
    expect(leader.get_by_role("link", name="Tải CSV")).to_have_attribute(
        "href", re.compile(r"format=csv"))
    expect(leader.locator("#office svg.office-chart").first).to_be_visible()
    # From the queue, the leader gives the report to the officer.
    leader.goto(f"{live_server}/#/office")
    row = leader.locator(f".office-item[data-kind='feedback'][data-id='{report}']")
    row.get_by_label("Giao cho cán bộ").select_option(str(officer_id))
    row.get_by_role("button", name="Giao việc").click()
    expect(leader.locator("#office-said")).to_contain_text("Đã giao cho Cán Bộ Được Giao",
                                                           timeout=30_000)
    # The officer starts it and answers it from their queue, each in one tap.
    _as(officer, live_server, officer_token, "#/office")
    mine = officer.locator(f".office-item[data-kind='feedback'][data-id='{report}']")
    expect(mine).to_contain_text("Đã giao xử lý", timeout=30_000)
    mine.get_by_role("button", name="Bắt đầu xử lý").click()
    expect(mine).to_contain_text("Đang xử lý", timeout=30_000)
    mine.get_by_role("button", name="Trả lời").click()
    mine.get_by_label("Nội dung trả lời công khai").fill("Đã thay nắp cống mới")
    mine.get_by_role("button", name="Gửi").click()
    expect(officer.locator("#office-said")).to_contain_text("Trả lời", timeout=30_000)
    leader.goto(f"{live_server}/#/office/stats")
    leader.reload()
    assert _figure(leader) == (before[0] + 1, before[1] + 1)


def test_documents_are_found_without_diacritics_and_the_week_takes_a_meeting(
        pages: list[Page], live_server: str, engine: Engine,  # noqa: F811
        tmp_path: Path) -> None:
    officer = pages[0]
    ward, _ = _ward_and_parcel(engine)
    token, _ = _person(engine, "Cán Bộ Văn Thư", GrantSpec("officer", URBAN, (ward,)))
    _as(officer, live_server, token, "#/office/calendar")
    expect(officer.locator("#office .office-day")).to_have_count(7, timeout=30_000)
    csrf = officer.request.get(f"{live_server}/api/me").json()["csrf_token"]
    symbol = f"{secrets.randbelow(10**4)}/UBND-QLĐT"
    entered = officer.request.post(f"{live_server}/api/office/documents", headers={
        "X-CSRF-Token": csrf}, data={
        "direction": "incoming", "number": "15", "symbol": symbol,
        "issued_on": today().isoformat(), "issuer": "UBND Thành phố",
        "summary": "Về việc điều chỉnh quy hoạch khu dân cư", "doc_type": "Công văn",
        "body_text": f"Đề nghị phòng báo cáo trước ngày {today() + timedelta(days=9):%d/%m/%Y}."})
    assert entered.status == 201, entered.text()
    # A meeting added this week shows on its day.
    when = today().isoformat()
    officer.get_by_label("Nội dung").fill("Họp giao ban phòng")
    officer.get_by_label("Bắt đầu").fill(f"{when}T09:00")
    officer.get_by_label("Kết thúc").fill(f"{when}T10:00")
    officer.get_by_role("button", name="Lưu lịch").click()
    expect(officer.locator(f".office-day[data-day='{when}']")).to_contain_text(
        "Họp: Họp giao ban phòng", timeout=30_000)
    officer.get_by_role("button", name="Đăng ký lịch trên điện thoại").click()
    expect(officer.locator("#cal-feed-url")).to_have_value(re.compile(r"/calendar/feed/.+\.ics$"))
    # "quy hoach" finds "quy hoạch".
    officer.goto(f"{live_server}/#/office/documents")
    officer.get_by_label("Tìm văn bản").fill("quy hoach")
    officer.locator("#office").get_by_role("button", name="Tìm").click()
    expect(officer.locator(".office-documents")).to_contain_text(symbol, timeout=30_000)
    # The deadline its text sets becomes the officer's task in one tap, and is in the queue.
    due = today() + timedelta(days=9)
    entry = officer.locator(".office-documents li", has_text=symbol)
    expect(entry).to_contain_text(re.compile(  # the browser's vi-VN date, zero-padded or not
        rf"Hạn trong văn bản: 0?{due.day}/0?{due.month}/{due.year}"))
    entry.get_by_role("button", name="Tạo việc có nhắc hạn").click()
    expect(entry).to_contain_text("Đã tạo việc số", timeout=30_000)
    # The document's own file is attached from its entry, and downloads as it was sent.
    scan = tmp_path / "cong-van-den.pdf"
    scan.write_bytes(pdf())
    entry.get_by_label("Đính kèm tệp văn bản (PDF, ảnh quét)").set_input_files(scan)
    expect(entry).to_contain_text("Đã đính kèm cong-van-den.pdf", timeout=30_000)
    with officer.expect_download() as fetched:
        entry.get_by_role("link", name=re.compile(r"^Tệp văn bản: cong-van-den\.pdf")).click()
    assert Path(fetched.value.path()).read_bytes() == scan.read_bytes()
    officer.goto(f"{live_server}/#/office")
    expect(officer.locator(".office-item[data-kind='task']", has_text=symbol)).to_have_count(
        1, timeout=30_000)


# Chromium headless reaches no real push service: the browser's PushManager is stood in for by
# one that answers a subscription the way a push service's would (its endpoint, its keys).
FAKE_PUSH = """
(() => {
  let held = null;
  const made = () => ({
    endpoint: "https://push.example.test/sub/office-test",
    toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: {
      p256dh: "B" + "A".repeat(86), auth: "A".repeat(22) } }; },
    async unsubscribe() { held = null; return true; },
  });
  PushManager.prototype.getSubscription = async function () { return held; };
  PushManager.prototype.subscribe = async function (options) {
    window.__pushKey = options.applicationServerKey;
    held = made();
    return held;
  };
})();
"""


def test_an_officer_reads_the_notices_and_turns_push_on_and_off_for_the_phone(
        pages: list[Page], live_server: str, engine: Engine) -> None:  # noqa: F811
    officer = pages[1]
    ward, _ = _ward_and_parcel(engine)
    token, phone = _person(engine, "Cán Bộ Nhận Tin", GrantSpec("officer", URBAN, (ward,)))
    person = _person_id(engine, phone)
    with engine.begin() as conn:
        for body, read in (("Hồ sơ 07.01 sắp đến hạn", True),
                           ("Bạn được giao phản ánh số 9", False)):
            conn.exec_driver_sql(
                "INSERT INTO person_notice (person_id, body, link, read_at) VALUES "
                "(%(p)s, %(b)s, '#/feedback/9', CASE WHEN %(r)s THEN now() END)",
                {"p": person, "b": body, "r": read})
    officer.context.grant_permissions(["notifications"], origin=live_server)
    officer.add_init_script(FAKE_PUSH)
    _as(officer, live_server, token, "#/office")
    bell = officer.locator("#office-bell")
    expect(bell).to_have_text("🔔 1", timeout=30_000)
    bell.click()
    listed = officer.locator("#office-notices li")
    expect(listed).to_have_count(2, timeout=30_000)
    expect(listed.first).to_contain_text("Chưa đọc · Bạn được giao phản ánh số 9")
    expect(listed.nth(1)).not_to_contain_text("Chưa đọc")
    expect(listed.first.get_by_role("link", name="Mở")).to_have_attribute("href", "#/feedback/9")

    def unread() -> int:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(
                "SELECT count(*) FROM person_notice WHERE person_id = %(p)s AND read_at IS NULL",
                {"p": person}).scalar_one())

    for _ in range(50):  # opening the list reads them
        if unread() == 0:
            break
        officer.wait_for_timeout(100)
    assert unread() == 0
    expect(bell).to_have_text("🔔 0", timeout=30_000)  # read, and the bell says so

    def subscriptions() -> list[str]:
        with engine.connect() as conn:
            return [str(r[0]) for r in conn.exec_driver_sql(
                "SELECT endpoint FROM push_subscription WHERE person_id = %(p)s "
                "AND revoked_at IS NULL", {"p": person})]

    toggle = officer.locator("#office-push")
    expect(toggle).to_have_text("Nhận thông báo trên máy này")
    toggle.click()
    expect(toggle).to_have_text("Tắt thông báo trên máy này", timeout=30_000)
    expect(officer.locator("#office-push-state")).to_contain_text("nhận thông báo đẩy")
    assert subscriptions() == ["https://push.example.test/sub/office-test"]
    key = officer.evaluate("window.__pushKey")
    assert key == officer.request.get(f"{live_server}/api/push/key").json()["key"]
    toggle.click()
    expect(toggle).to_have_text("Nhận thông báo trên máy này", timeout=30_000)
    assert subscriptions() == []


def test_the_workload_map_is_drawn_from_the_platform_alone(
        pages: list[Page], live_server: str, engine: Engine) -> None:  # noqa: F811
    leader = pages[0]
    token, _ = _person(engine, "Lãnh Đạo Xem Bản Đồ", GrantSpec("leader", URBAN))
    outside: list[str] = []

    def only_ours(route: Route) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()
    leader.route("**/*", only_ours)
    errors: list[str] = []
    leader.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    leader.on("pageerror", lambda e: errors.append(str(e)))
    _as(leader, live_server, token, "#/office/stats")
    leader.get_by_role("button", name="Lập bản đồ khối lượng công việc và phản ánh").click()
    opened = leader.get_by_role("link", name="Mở bản đồ (chia sẻ bằng đường dẫn)")
    expect(opened).to_have_attribute("href", re.compile(r"^/api/office/reports/\d+$"),
                                     timeout=30_000)
    leader.goto(live_server + str(opened.get_attribute("href")))
    expect(leader.locator("body")).to_have_attribute("data-drawn", "3", timeout=60_000)
    expect(leader.locator("#report-title")).to_contain_text("Khối lượng công việc và phản ánh")
    assert leader.locator("#deck-container canvas").count() >= 2  # the map's and deck.gl's
    assert outside == []
    assert [e for e in errors if "Content Security Policy" in e or "Error" in e] == []
