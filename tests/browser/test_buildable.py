"""The card's "what can I build here" section in Chromium: limits, their block, the strip."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Connection

from tests.browser.conftest import wait_for


def test_the_card_says_what_can_be_built(page: Page, live_server: str,
                                         conn: Connection) -> None:
    key, code, floors, street = conn.exec_driver_sql(
        """
        SELECT p.parcel_key, b.block_code, b.floors_max, r.name FROM parcel p
        JOIN parcel_zoning pz ON pz.parcel_id = p.id
        JOIN zoning_block b ON b.id = pz.block_id
        JOIN parcel_frontage pf ON pf.parcel_id = p.id
        JOIN road r ON r.id = pf.road_id AND r.right_of_way_m = 20
        WHERE pz.share_pct = 100 AND b.floors_max > 1
          AND ST_Area(ST_Intersection(p.geom, r.row_geom)::geography) > 10
        ORDER BY p.parcel_key LIMIT 1
        """).one()
    page.goto(f"{live_server}/#/parcel/{key}")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    sheet = page.locator("#sheet")
    expect(sheet.get_by_role("heading", name="Có thể xây dựng gì ở đây")).to_be_visible(
        timeout=15_000)
    facts = sheet.locator("dl.buildable")
    most = facts.locator("dt", has_text="Tầng cao tối đa")
    expect(most).to_have_count(1)
    expect(facts.locator("dt:has-text('Tầng cao tối đa') + dd")).to_have_text(
        f"{floors} tầng · ô phố {code}")
    expect(facts.locator("dt", has_text=f"Trong lộ giới {street} (20 m)")).to_have_count(1)
    expect(facts).to_contain_text("Diện tích còn lại")
    expect(sheet).to_contain_text("tính trên diện tích còn lại")
