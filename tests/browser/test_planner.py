"""The planner's screens in Chromium: one upload from file choice to published tiles, and back."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from accounts.service import AccountService, GrantSpec
from core.notify import OutboxNotifier
from tests.browser.conftest import wait_for
from tests.layers.files import land_use_with, published

RENDERED_CODE = """([lon, lat]) => {
  const map = window.__civicmap.map;
  const found = map.queryRenderedFeatures(map.project([lon, lat]), {layers: ['land-use']});
  return found.length ? found[0].properties.code : null;
}"""


def _open_as_planner(page: Page, live_server: str, engine: Engine) -> None:
    """The app opened by a planner already signed in."""
    phone = "095" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as conn:
        service = AccountService(conn, OutboxNotifier(conn), b"k" * 32)
        person_id, _ = service.create_staff(phone, "Kiến Trúc Sư", GrantSpec("planner"))
        session = service._new_session(person_id)
    page.context.add_cookies([{"name": "civicmap_session", "value": session.token,
                               "url": live_server}])
    page.add_init_script("localStorage.setItem('signedIn', '1')")
    page.goto(live_server + "/")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)


def test_upload_report_publish_tiles_and_roll_back(page: Page, live_server: str,
                                                   live_worker: None, engine: Engine,
                                                   tmp_path: Path) -> None:
    with engine.connect() as conn:
        target = conn.exec_driver_sql(
            "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) AS p "
            "FROM land_use_zone WHERE code = 'ODT' ORDER BY ST_Area(geom) DESC LIMIT 1) s").one()
        before = published(conn, "land_use")
        source = tmp_path / "quy-hoach-sdd-2030.geojson"
        source.write_bytes(land_use_with(conn, target.id, "TMD"))
    _open_as_planner(page, live_server, engine)
    page.get_by_role("button", name="Dữ liệu quy hoạch").click()
    page.get_by_label("Lớp dữ liệu", exact=True).select_option("land_use")
    page.get_by_label("Tệp (shapefile nén .zip").set_input_files(str(source))
    page.get_by_role("button", name="Tải lên").click()
    report = page.locator(".planner-view")
    expect(page.get_by_role("heading", name="Báo cáo kiểm tra")).to_be_visible(timeout=90_000)
    expect(report).to_contain_text("1 thêm · 1 bớt")
    expect(report).to_contain_text("Đã kiểm tra, sẵn sàng xuất bản")
    assert page.evaluate("!!window.__civicmap.map.getSource('planner-changes')")

    point = [target.st_x, target.st_y]
    page.evaluate(f"window.__civicmap.map.jumpTo({{center: {point}, zoom: 16.5}})")
    wait_for(page, f"({RENDERED_CODE})({point}) === 'ODT'", timeout=30_000)
    page.get_by_role("button", name="Xuất bản", exact=True).click()
    expect(page.locator("#status")).to_contain_text("Đã xuất bản phiên bản", timeout=60_000)
    # The published plan reaches the map: its tiles were refreshed where it changed.
    wait_for(page, f"({RENDERED_CODE})({point}) === 'TMD'", timeout=30_000)

    page.get_by_role("button", name=f"Khôi phục v{before}").click()
    expect(page.locator("#status")).to_contain_text(f"Đã khôi phục phiên bản {before}",
                                                    timeout=60_000)
    wait_for(page, f"({RENDERED_CODE})({point}) === 'ODT'", timeout=30_000)


def test_the_planner_answers_the_field_doctor_with_a_select(page: Page, live_server: str,
                                                           live_worker: None, engine: Engine,
                                                           tmp_path: Path) -> None:
    with engine.connect() as conn:
        features = json.loads(land_use_with(conn, 0, "ODT"))["features"]
    # Another office's file: the code under a name unlike ours, with a note beside it.
    for feature in features:
        feature["properties"] = {"THONG_TIN": feature["properties"]["ma_loai_dat"],
                                 "GHI_CHU": "bản vẽ 2030"}
    source = tmp_path / "ban-ve-khac.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    _open_as_planner(page, live_server, engine)
    page.get_by_role("button", name="Dữ liệu quy hoạch").click()
    page.get_by_label("Lớp dữ liệu", exact=True).select_option("land_use")
    page.get_by_label("Tệp (shapefile nén .zip").set_input_files(str(source))
    page.get_by_role("button", name="Tải lên").click()
    expect(page.get_by_role("heading", name="Trường dữ liệu của tệp")).to_be_visible(
        timeout=90_000)
    choice = page.get_by_label("ma_loai_dat (bắt buộc)")
    expect(choice).to_have_value("THONG_TIN")  # the best candidate comes first
    expect(page.locator(".field-choice .samples")).to_contain_text("ODT")
    page.get_by_role("button", name="Trả lời").click()
    expect(page.get_by_role("heading", name="Báo cáo kiểm tra")).to_be_visible(timeout=90_000)
    report = page.locator(".planner-view")
    expect(report).to_contain_text("Đã kiểm tra, sẵn sàng xuất bản")
    expect(report).to_contain_text("THONG_TIN → ma_loai_dat (answered)")
