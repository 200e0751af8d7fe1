"""Applying on a parcel in Chromium: the parcel's facts pre-filled, the procedure's form from
its JSON Schema with the refusals in Vietnamese, the draft saved as one types, a draft changed
in another tab never overwritten, the pre-check's findings beside their fields."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine

from accounts.service import AccountService
from core.notify import OutboxNotifier

HOUSE = "construction-permit-house"
NAME = "Trần Thị Nộp"


def _citizen(page: Page, live_server: str, engine: Engine) -> int:
    """A citizen of their own, signed in in this browser context."""
    phone = "+8496" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as conn:
        person_id = int(conn.exec_driver_sql(
            "INSERT INTO person (phone, password_hash, display_name, verified_at) "
            "VALUES (%(p)s, 'x', %(n)s, now()) RETURNING id", {"p": phone, "n": NAME})
            .scalar_one())
        conn.exec_driver_sql("INSERT INTO role_grant (person_id, role) VALUES (%(p)s, "
                             "'citizen')", {"p": person_id})
        session = AccountService(conn, OutboxNotifier(conn), b"k" * 32)._new_session(person_id)
    page.context.add_cookies([{"name": "civicmap_session", "value": session.token,
                               "url": live_server}])
    page.context.add_init_script("localStorage.setItem('signedIn', '1')")
    return person_id


def _residential_parcel(engine: Engine) -> tuple[str, float]:
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT p.parcel_key, p.area_m2 FROM parcel p JOIN zoning_block b ON "
            "ST_CoveredBy(p.geom, b.geom) WHERE b.function_category = 'residential_existing' "
            "AND b.floors_max IS NOT NULL ORDER BY p.parcel_key LIMIT 1").one()
    return str(row[0]), float(row[1])


def _drafts(engine: Engine, person_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.exec_driver_sql(
            "SELECT id, answers, applicant FROM dossier WHERE owner_id = %(o)s ORDER BY id",
            {"o": person_id})]


def _eventually(probe: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _vi_number(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def test_apply_prefilled_checked_saved_as_one_types_and_never_overwritten(
        page: Page, live_server: str, engine: Engine) -> None:
    person_id = _citizen(page, live_server, engine)
    key, area = _residential_parcel(engine)
    url = f"{live_server}/#/apply/{HOUSE}?parcel={key}"
    findings: list[dict[str, Any]] = [{
        "field": "floors", "rule": "floors_max", "limit": 3, "value": 4,
        "message_vi": "Vượt tầng cao tối đa của ô phố", "message_en": "Above the block's floors"}]

    def precheck(route: Route) -> None:  # the pre-check another engineer builds, as it will answer
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"findings": findings}))

    page.route("**/api/precheck", precheck)
    failures: list[str] = []
    page.on("pageerror", lambda e: failures.append(str(e)))
    page.goto(url)
    panel = page.locator("#apply")
    expect(panel.get_by_role("heading", name="Nộp hồ sơ: Cấp giấy phép xây dựng nhà ở riêng lẻ"))\
        .to_be_visible(timeout=30_000)
    expect(page.get_by_label("Mã thửa")).to_have_value(key)
    expect(page.get_by_label("Mã thửa")).not_to_be_editable()
    shown_area = page.get_by_label("Diện tích (m²)").input_value()
    assert abs(_vi_number(shown_area) - area) <= 0.05, shown_area
    expect(panel).to_contain_text("Tầng cao tối đa")  # the limits a building must respect
    expect(page.get_by_label("Họ và tên")).to_have_value(NAME)  # from the account

    floors = page.get_by_label("Số tầng")
    floors.fill("1000")
    expect(page.locator("#answer-floors-error")).to_have_text("Không được lớn hơn 100")
    expect(floors).to_have_attribute("aria-invalid", "true")
    floors.fill("2.5")
    expect(page.locator("#answer-floors-error")).to_have_text("Phải là một số nguyên")
    state = panel.locator(".save-state")
    expect(state).to_have_text("Chưa lưu: hãy sửa các trường được đánh dấu")
    assert _drafts(engine, person_id) == []  # nothing wrong is sent

    good = {"floors": 4, "height_m": 14.5, "footprint_m2": 80, "floor_area_m2": 300}
    floors.fill("4")
    page.get_by_label("Chiều cao công trình (m)").fill("14.5")
    page.get_by_label("Diện tích xây dựng tầng 1 (m²)").fill("80")
    page.get_by_label("Tổng diện tích sàn (m²)").fill("300")
    expect(page.locator("#answer-floors-error")).to_have_text("")
    saved = _eventually(lambda: [d for d in _drafts(engine, person_id) if d["answers"] == good])
    assert len(saved) == 1, _drafts(engine, person_id)
    assert len(_drafts(engine, person_id)) == 1  # one draft, changed as one types
    assert saved[0]["applicant"]["full_name"] == NAME
    expect(state).to_contain_text("Đã lưu bản nháp")
    expect(page.locator("#answer-floors-finding")).to_have_text("Vượt tầng cao tối đa của ô phố")

    # Another tab goes on with the same draft and changes it (the server has no pre-check:
    # nothing shows there).
    other = page.context.new_page()
    other.goto(url)
    expect(other.locator("#apply .save-state")).to_have_text("Đang tiếp tục bản nháp đã lưu",
                                                            timeout=30_000)
    expect(other.get_by_label("Số tầng")).to_have_value("4")
    other.get_by_label("Số tầng").fill("5")
    assert _eventually(lambda: _drafts(engine, person_id)[0]["answers"]["floors"] == 5)
    expect(other.locator("#apply .save-state")).to_contain_text("Đã lưu bản nháp")
    expect(other.locator("#answer-floors-finding")).to_have_text("")

    # This tab's next save carries the ETag it had: refused, said, and nothing overwritten.
    page.get_by_label("Chiều cao công trình (m)").fill("15")
    expect(panel.get_by_role("alert")).to_contain_text("vừa được thay đổi ở nơi khác")
    time.sleep(1.5)  # longer than the save's pause: a silent retry would have landed by now
    assert _drafts(engine, person_id)[0]["answers"] == {**good, "floors": 5}
    panel.get_by_role("button", name="Tải lại hồ sơ").click()
    expect(floors).to_have_value("5")
    expect(page.get_by_label("Chiều cao công trình (m)")).to_have_value("14.5")
    page.get_by_label("Tổng diện tích sàn (m²)").fill("320")
    assert _eventually(lambda: _drafts(engine, person_id)[0]["answers"]["floor_area_m2"] == 320)

    draft_id = _drafts(engine, person_id)[0]["id"]
    panel.get_by_role("button", name="Xem và nộp hồ sơ").click()
    expect(page.locator("#dossier").get_by_role("heading", name="Hồ sơ (bản nháp)"))\
        .to_be_visible()
    assert page.evaluate("location.hash") == f"#/dossiers/{draft_id}"
    other.close()
    assert failures == []


def test_apply_in_english_and_signed_out(page: Page, live_server: str, engine: Engine) -> None:
    key, _ = _residential_parcel(engine)
    page.goto(f"{live_server}/#/apply/{HOUSE}?parcel={key}")
    heading = page.get_by_role("heading", name="Đăng nhập để nộp hồ sơ")
    heading.wait_for(timeout=30_000)
    _citizen(page, live_server, engine)
    page.goto(f"{live_server}/?lang=en#/apply/{HOUSE}?parcel={key}")
    floors = page.get_by_label("Số tầng")  # the form's titles are the procedure's own
    floors.fill("0")
    expect(page.locator("#answer-floors-error")).to_have_text("Must be at least 1")
    expect(page.get_by_label("Parcel key")).to_have_value(key)
