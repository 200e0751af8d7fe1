"""The account screens in Chromium: sign up with the code, my account, language, sign out."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.accounts.world import outbox_code

PASSWORD = "mật-khẩu-dài-đủ"


def _code(engine: Engine, recipient: str) -> str:
    with engine.connect() as conn:
        return outbox_code(conn, recipient)


def test_sign_up_verify_my_account_language_and_sign_out(page: Page, live_server: str,
                                                         engine: Engine) -> None:
    phone = "097" + "".join(secrets.choice("0123456789") for _ in range(7))
    page.goto(live_server + "/")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Chưa có tài khoản? Đăng ký").click()
    expect(page.locator(".purpose")).to_contain_text("91/2025/QH15")  # the purpose, before
    page.get_by_label("Họ và tên").fill("Lý Thị Thử")
    page.get_by_label("Số điện thoại hoặc email").fill(phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_label("Tôi đồng ý").check()
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_role("heading", name="Xác thực")).to_be_visible()
    page.get_by_label("Mã xác thực").fill("000000" if _code(engine, "+84" + phone[1:]) != "000000"
                                          else "111111")
    page.get_by_role("button", name="Xác thực").click()
    expect(page.get_by_role("alert")).to_have_text("Mã không đúng hoặc đã hết hạn")
    page.get_by_label("Mã xác thực").fill(_code(engine, "+84" + phone[1:]))
    page.get_by_role("button", name="Xác thực").click()
    expect(page.get_by_role("heading", name="Tài khoản của tôi")).to_be_visible()
    expect(page.locator("#account dd").first).to_have_text("Lý Thị Thử")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["civicmap_session"]["httpOnly"]
    assert page.evaluate("document.cookie").find("civicmap_session") == -1
    # My data, as a download.
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải dữ liệu của tôi (JSON)").click()
    assert "Lý Thị Thử" in download.value.path().read_text(encoding="utf-8")
    # The language preference is kept on the account and applied.
    page.get_by_label("Ngôn ngữ").select_option("en")
    expect(page.get_by_role("heading", name="District 7 planning map")).to_be_visible()
    with engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT lang FROM person WHERE phone = %(p)s",
                                    {"p": "+84" + phone[1:]}).scalar_one()
    assert kept == "en"
    page.get_by_role("button", name="My account").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "civicmap_session" not in {c["name"] for c in page.context.cookies()}


def test_wrong_password_is_said_plainly(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_label("Số điện thoại hoặc email").fill("0900000009")
    page.get_by_label("Mật khẩu").fill("không phải mật khẩu")
    page.locator("#account form").get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Số điện thoại/email hoặc mật khẩu không đúng")
