"""A dossier's life in Chromium, each person in a browser of their own: the citizen submits, an
officer receives it and asks for a supplement, the citizen answers from the message's link, the
leader approves, the officer issues the result, the citizen sees it and anyone looks it up."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from accounts.service import AccountService, GrantSpec
from core.notify import OutboxNotifier
from tests.permits.document_files import pdf

URBAN = "urban-management"
# Not the wards of the API tests' world: what this test commits stays out of their lists.
WORLD_WARDS = ["27487", "27466"]


def _phone() -> str:
    return "096" + "".join(secrets.choice("0123456789") for _ in range(7))


def _person(engine: Engine, name: str, grant: GrantSpec | None) -> tuple[str, str]:
    """A signed-in person of that role: their session token and phone."""
    phone = _phone()
    with engine.begin() as conn:
        service = AccountService(conn, OutboxNotifier(conn), b"k" * 32)
        if grant is None:
            person_id = int(conn.exec_driver_sql(
                "INSERT INTO person (phone, password_hash, display_name, verified_at) "
                "VALUES (%(p)s, 'x', %(n)s, now()) RETURNING id",
                {"p": "+84" + phone[1:], "n": name}).scalar_one())
            conn.exec_driver_sql("INSERT INTO role_grant (person_id, role) "
                                 "VALUES (%(p)s, 'citizen')", {"p": person_id})
        else:
            person_id, _ = service.create_staff(phone, name, grant)
        return service._new_session(person_id).token, phone


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    """Phone-sized pages, one browser context each (their own cookies)."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 412, "height": 860}, is_mobile=True)
        contexts.append(context)
        return context.new_page()

    opened: list[Page] = [make() for _ in range(4)]
    yield opened
    for context in contexts:
        context.close()


def _as(page: Page, live_server: str, token: str, hash_: str) -> None:
    page.context.add_cookies([{"name": "civicmap_session", "value": token, "url": live_server}])
    page.add_init_script("localStorage.setItem('signedIn', '1')")
    page.goto(live_server + "/" + hash_)


def _status(page: Page, text: str) -> None:
    expect(page.locator("#dossier .dossier-status")).to_have_text(text, timeout=30_000)


def test_from_the_card_to_the_result_in_four_browsers(
        pages: list[Page], live_server: str, engine: Engine, tmp_path: Path) -> None:
    citizen, officer, leader, stranger = pages
    with engine.connect() as conn:
        parcel, ward = conn.exec_driver_sql(
            "SELECT p.parcel_key, w.code FROM parcel p "
            "JOIN admin_unit w ON w.id = p.current_ward_id "
            "JOIN parcel_zoning pz ON pz.parcel_id = p.id "
            "JOIN zoning_block b ON b.id = pz.block_id "
            "WHERE w.code <> ALL(%(w)s) AND b.function_category = 'residential_existing' "
            "AND b.floors_max IS NOT NULL ORDER BY pz.share_pct DESC, p.id LIMIT 1",
            {"w": WORLD_WARDS}).one()
    citizen_token, applicant_phone = _person(engine, "Lê Văn Chủ Nhà", None)
    officer_token, _ = _person(engine, "Cán Bộ Một Cửa", GrantSpec("officer", URBAN, (ward,)))
    leader_token, _ = _person(engine, "Lãnh Đạo Phòng", GrantSpec("leader", URBAN))
    # From the parcel's card to the procedure, to the form pre-filled with the parcel.
    _as(citizen, live_server, citizen_token, f"#/parcel/{parcel}")
    citizen.locator(".services").get_by_role(
        "link", name="Cấp giấy phép xây dựng nhà ở riêng lẻ").click()
    citizen.get_by_role("link", name="Nộp hồ sơ cho thửa này").click()
    expect(citizen.get_by_label("Mã thửa")).to_have_value(parcel, timeout=30_000)
    card = citizen.request.get(f"{live_server}/api/parcels/{parcel}").json()
    most = card["buildable"]["floors_max"]["value"]
    # Too many floors: the pre-check says so beside the field, with the parcel's number.
    floors = citizen.get_by_label("Số tầng")
    floors.fill(str(most + 2))
    tallest = (card["buildable"]["height_max_m"] or {}).get("value") or 3.3 * most
    citizen.get_by_label("Chiều cao công trình (m)").fill(str(tallest))
    citizen.get_by_label("Diện tích xây dựng tầng 1 (m²)").fill("20")
    citizen.get_by_label("Tổng diện tích sàn (m²)").fill(str(20 * most))
    finding = citizen.locator("#apply .field-finding:not(:empty)")
    expect(finding).to_contain_text(f"vượt quá tối đa {most} tầng", timeout=30_000)
    floors.fill(str(most))  # fixed: nothing is flagged any more
    expect(citizen.locator("#apply .field-finding:not(:empty)")).to_have_count(0,
                                                                             timeout=30_000)
    expect(citizen.locator("#apply")).to_contain_text("Đã lưu bản nháp", timeout=30_000)
    citizen.get_by_role("button", name="Xem và nộp hồ sơ").click()
    expect(citizen.get_by_role("heading", name="Hồ sơ (bản nháp)")).to_be_visible(
        timeout=30_000)
    made = int(citizen.evaluate("location.hash").rsplit("/", 1)[1])
    # Submitting without the documents is refused, naming them; attached, it goes.
    citizen.get_by_role("button", name="Nộp hồ sơ").click()
    expect(citizen.locator("#dossier-note")).to_contain_text("land_certificate")
    drawing = tmp_path / "ban-ve.pdf"
    drawing.write_bytes(pdf())
    for name in ("Đơn đề nghị cấp giấy phép", "Giấy chứng nhận", "Hai bộ bản vẽ"):
        document = citizen.locator("#dossier .document").filter(has_text=name).first
        document.get_by_label("Chọn tệp").set_input_files(drawing)
        expect(document.get_by_role("link", name="ban-ve.pdf")).to_be_visible(timeout=30_000)
    citizen.get_by_role("button", name="Nộp hồ sơ").click()
    _status(citizen, "Chờ tiếp nhận")
    code = citizen.locator("#dossier-title").inner_text().removeprefix("Hồ sơ ")
    # The officer receives it: the return date and the receipt (Form 01) appear.
    _as(officer, live_server, officer_token, f"#/dossiers/{made}")
    officer.get_by_role("button", name="Tiếp nhận", exact=True).click()
    _status(officer, "Đã tiếp nhận")
    expect(officer.locator("#dossier-due")).not_to_be_empty()
    expect(officer.locator(".dossier-form[data-form='01']")).to_contain_text("Lê Văn Chủ Nhà")
    expect(officer.locator("#dossier .document")).to_contain_text(["ban-ve.pdf"] * 3)
    expect(officer.locator(".dossier-precheck")).to_contain_text("Không vượt chỉ tiêu nào")
    officer.get_by_role("button", name="Chuyển xử lý").click()
    _status(officer, "Đang xử lý")
    move = officer.locator(".dossier-move[data-action='request_supplement']")
    move.get_by_label("Giấy tờ, nội dung cần bổ sung").fill("Bản vẽ mặt bằng tầng 1")
    move.get_by_label("Hạn bổ sung").fill((date.today() + timedelta(days=10)).isoformat())
    move.get_by_role("button", name="Yêu cầu bổ sung").click()
    _status(officer, "Yêu cầu bổ sung")
    # The citizen answers from the link in the message, without looking for the dossier.
    with engine.connect() as conn:
        sms = conn.exec_driver_sql(
            "SELECT body FROM outbox_message WHERE recipient IN (%(r)s, %(i)s) "
            "AND body LIKE '%%/#/supplement/%%' ORDER BY id DESC LIMIT 1",
            {"r": applicant_phone, "i": "+84" + applicant_phone[1:]}).scalar_one()
    link = re.search(r"(/#/supplement/[A-Za-z0-9_-]+)", sms)
    assert link, sms
    answer = stranger  # the link works in any browser: it is the applicant's
    answer.goto(live_server + link[1])
    expect(answer.locator("#lookup")).to_contain_text("Bản vẽ mặt bằng tầng 1", timeout=30_000)
    answer.get_by_label("Nội dung bổ sung").fill("Đã nộp bản vẽ tại bộ phận một cửa")
    answer.get_by_role("button", name="Gửi bổ sung").click()
    expect(answer.locator("#lookup")).to_contain_text("Đã gửi bổ sung", timeout=30_000)
    expect(answer.locator("#lookup-result")).to_contain_text("Đã bổ sung")
    # Back at the desk: processing resumes, the leader approves, the result is issued.
    officer.reload()
    officer.get_by_role("button", name="Xử lý tiếp").click()
    _status(officer, "Đang xử lý")
    expect(officer.get_by_role("button", name="Phê duyệt")).to_have_count(0)  # the leader's
    _as(leader, live_server, leader_token, f"#/dossiers/{made}")
    leader.get_by_role("button", name="Phê duyệt").click()
    _status(leader, "Đã phê duyệt")
    officer.reload()
    result = officer.locator(".dossier-move[data-action='issue_result']")
    result.get_by_label("Số giấy phép / giấy chứng nhận").fill("125/GPXD")
    result.get_by_role("button", name="Ban hành kết quả").click()
    _status(officer, "Có kết quả")
    # The citizen sees the decision, and anyone with the code sees the status, not the names.
    citizen.goto(f"{live_server}/#/dossiers")
    expect(citizen.locator(".dossier-list")).to_contain_text("Có kết quả", timeout=30_000)
    citizen.locator(".dossier-list").get_by_role("link", name=code).click()
    _status(citizen, "Có kết quả")
    expect(citizen.locator(".dossier-history")).to_contain_text("Phê duyệt")
    stranger.goto(f"{live_server}/#/lookup/{code}")
    expect(stranger.locator("#lookup-result")).to_contain_text("Có kết quả", timeout=30_000)
    assert "Lê Văn Chủ Nhà" not in stranger.locator("#lookup").inner_text()
    assert applicant_phone not in stranger.locator("#lookup").inner_text()
