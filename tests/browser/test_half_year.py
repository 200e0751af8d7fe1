"""The statistics screen over the sample's half year, in Chromium: the district's chairman picks
the second half of 2025 and reads the proposal's three rows, computed from the events."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from accounts.service import GrantSpec
from tests.browser.test_dossiers import _as, _person, pages  # noqa: F401
from tests.permits.test_sample_half_year import TABLE


def test_the_statistics_screen_shows_the_proposals_three_rows(
        pages: list[Page], half_year_server: str, half_year: Engine) -> None:  # noqa: F811
    chairman = pages[0]
    token, _ = _person(half_year, "Chủ Tịch Xem Số Liệu", GrantSpec("administrator"))
    _as(chairman, half_year_server, token, "#/office/stats")
    chairman.locator("#stats-kind").select_option("half")
    chairman.locator("#stats-period").select_option("2025-H2")
    chairman.get_by_role("button", name="Xem").click()
    expect(chairman.locator(".office-stats-part p.muted").first).not_to_be_visible()
    for key, (received, handled, _, said) in TABLE.items():
        row = chairman.locator(f"#stats-dossiers tr[data-key='{key}']")
        expect(row.locator(".office-said-cell")).to_have_text(said, timeout=30_000)
        expect(row.locator("td").nth(1)).to_have_text(str(received))
        expect(row.locator("td").nth(2)).to_have_text(str(handled))
    expect(chairman.locator("#stats-dossiers tr[data-key='household-business-registration']")
           ).to_contain_text("hộ kinh doanh")
    expect(chairman.locator("#stats-feedback")).to_be_visible()
    expect(chairman.get_by_role("link", name="Tải Excel (XLSX)")).to_have_attribute(
        "href", "/api/office/stats?period=2025-H2&group=procedure&format=xlsx")
    # By department, each named: the economy department's row is the household businesses'.
    chairman.locator("#stats-group").select_option("department")
    chairman.get_by_role("button", name="Xem").click()
    economy = chairman.locator("#stats-dossiers tr[data-key='economy']")
    expect(economy).to_contain_text("Phòng Kinh tế", timeout=30_000)
    expect(economy.locator(".office-said-cell")).to_have_text("1538/1618 = 95 %")
    expect(chairman.get_by_role("link", name="Tải CSV")).to_have_attribute(
        "href", "/api/office/stats?period=2025-H2&group=department&format=csv")
