"""Paying a fully online dossier's fee in Chromium: from the dossier to the sandbox gateway's
page and back, the dossier then saying the fee is paid (the officer may then receive it)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from core.workflow import SYSTEM, create, fire
from permits.workflow import DOSSIER
from tests.accounts.world import BUSINESS, ECONOMY, attach_all, complete_answers
from tests.browser.test_dossiers import WORLD_WARDS, _as, _person


def business_draft(engine: Engine, phone: str, name: str, nth: int = 0,
                   **answers: str) -> tuple[int, str]:
    """A household-business draft of the person with that phone, complete and with its
    documents, on a parcel outside the API tests' wards: (its id, its ward)."""
    with engine.begin() as conn:
        parcel, ward = conn.exec_driver_sql(
            "SELECT p.parcel_key, w.code FROM parcel p JOIN admin_unit w "
            "ON w.id = p.current_ward_id WHERE w.code <> ALL(%(w)s) ORDER BY p.id DESC "
            "LIMIT 1 OFFSET %(n)s", {"w": WORLD_WARDS, "n": nth}).one()
        owner = conn.exec_driver_sql("SELECT id FROM person WHERE phone = %(p)s",
                                     {"p": "+84" + phone[1:]}).scalar_one()
        dossier = create(conn, DOSSIER, "create", SYSTEM, {
            "owner_id": owner, "procedure_id": BUSINESS, "department": ECONOMY,
            "ward_code": ward, "parcel_key": parcel,
            "applicant": {"full_name": name, "phone": phone},
            "answers": {**complete_answers(conn, BUSINESS), **answers}}).row_id
        attach_all(conn, dossier)
    return int(dossier), str(ward)


def test_the_fee_is_paid_through_the_gateway_and_back(page: Page, live_server: str,
                                                        engine: Engine) -> None:
    token, phone = _person(engine, "Phạm Thị Bán Hàng", None)
    dossier, _ = business_draft(engine, phone, "Phạm Thị Bán Hàng")
    with engine.begin() as conn:
        fire(conn, DOSSIER, dossier, "submit", SYSTEM,
             values={"code": f"000.00.01.H29-261202-{9000 + dossier % 1000:04d}"})
    _as(page, live_server, token, f"#/dossiers/{dossier}")
    expect(page.locator("#dossier-fee-state")).to_have_text("Chưa thanh toán", timeout=30_000)
    expect(page.locator(".dossier-fee")).to_contain_text("100.000 đ")
    page.get_by_role("button", name="Thanh toán lệ phí").click()
    # The gateway's page, with the amount the platform asked for.
    expect(page.get_by_role("heading", name="Cổng thanh toán thử nghiệm (sandbox)")).to_be_visible(
        timeout=30_000)
    expect(page.locator("#amount")).to_have_text("100.000 đ")
    page.get_by_role("button", name="Thanh toán thành công").click()
    # Back on the dossier, which says so.
    expect(page.locator("#dossier-fee-state")).to_have_text("Đã thanh toán", timeout=30_000)
    expect(page.locator("#dossier-note")).to_have_text("Đã thanh toán lệ phí. Cảm ơn bạn.")
    expect(page.get_by_role("button", name="Thanh toán lệ phí")).to_have_count(0)
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT status FROM payment WHERE dossier_id = %(d)s", {"d": dossier}
        ).scalar_one() == "paid"
