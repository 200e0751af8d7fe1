"""The route table, the views' lazy code, the one API helper and the built files."""

from __future__ import annotations

import json
import re
from urllib.parse import urlparse

from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy import Engine

from core.settings import PROJECT_ROOT
from tests.browser.conftest import wait_for

DIST = PROJECT_ROOT / "mobile_web" / "dist"
SERVED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")  # gisapi/web.py's ASSET


def test_dist_is_flat_and_every_script_has_its_packed_copies() -> None:
    names = [p.name for p in DIST.iterdir()]
    assert all(SERVED.match(n) for n in names)
    assert not [p for p in DIST.iterdir() if p.is_dir()]
    scripts = [n for n in names if n.endswith((".js", ".mjs"))]
    assert {"app.js", "sw.js", "bench-bare.js"} <= set(scripts)
    assert len([n for n in scripts
                if re.match(r"^(parcel|account|planner|procedures)-\w{8}\.js$", n)]) == 4
    for name in scripts:
        assert f"{name}.br" in names, name
        assert f"{name}.gz" in names, name
    sw = (DIST / "sw.js").read_text()
    for view in (n for n in scripts if re.match(r"^\w+-\w{8}\.js$", n)):
        assert f'"/{view}"' in sw, view  # precached: every screen opens offline


def test_views_load_when_their_route_first_opens(page: Page, live_server: str) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(live_server + "/")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    first_map = [urlparse(u).path for u in asked]
    assert "/app.js" in first_map
    assert not [p for p in first_map if re.match(r"^/(account|planner)-", p)]
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name="Đăng nhập").wait_for()
    assert page.evaluate("location.hash") == "#/account"
    assert [u for u in asked if re.search(r"/account-\w{8}\.js$", u)]
    page.locator(".account-close").click()
    page.locator("#account").wait_for(state="hidden")
    assert page.evaluate("location.hash") == ""
    assert {urlparse(u).hostname for u in asked if u.startswith("http")} == {"127.0.0.1"}


def _echo(seen: list[dict[str, str]], answers: list[tuple[int, dict[str, object]]]):  # noqa: ANN202
    def handle(route: Route, request: Request) -> None:
        seen.append({**request.headers, "method": request.method})
        if not answers:
            route.abort("internetdisconnected")
            return
        status, body = answers.pop(0)
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body),
                      headers={"ETag": 'W/"v7"'} if request.method == "GET" else {})
    return handle


def test_api_helper_csrf_etag_idempotency_and_errors(page: Page, live_server: str) -> None:
    seen: list[dict[str, str]] = []
    answers: list[tuple[int, dict[str, object]]] = [
        (200, {"id": 1}), (409, {"detail": "changed meanwhile", "field": "version"})]
    page.route("**/api/echo", _echo(seen, answers))
    page.goto(live_server + "/")
    wait_for(page, "window.__civicmap && window.__civicmap.api")
    result = page.evaluate("""async () => {
      const api = window.__civicmap.api;
      api.setCsrf('token-1');
      const got = await api.get('/api/echo');
      const sent = await api.submit('PATCH', '/api/echo', {a: 1}, {ifMatch: true});
      return {etag: got.etag, error: sent.error, ok: sent.ok};
    }""")
    assert result["etag"] == 'W/"v7"'
    assert result["ok"] is False
    assert result["error"] == {"status": 409, "detail": "changed meanwhile", "field": "version"}
    get, patch = seen
    assert "x-csrf-token" not in get
    assert patch["x-csrf-token"] == "token-1"
    assert patch["if-match"] == 'W/"v7"'
    assert len(patch["idempotency-key"]) >= 32


def test_offline_queue_keeps_the_submission_key(page: Page, live_server: str) -> None:
    seen: list[dict[str, str]] = []
    answers: list[tuple[int, dict[str, object]]] = []
    page.route("**/api/echo", _echo(seen, answers))
    page.goto(live_server + "/")
    wait_for(page, "window.__civicmap && window.__civicmap.api")
    queued = page.evaluate("""async () => {
      const api = window.__civicmap.api, hooked = [];
      const sent = await api.submit('POST', '/api/echo', {b: 2},
        {retries: 1, offline: (entry) => hooked.push(entry)});
      return {hooked, sent: sent.error, stored: api.queued()};
    }""")
    assert queued["sent"]["offline"] is True
    assert len(queued["hooked"]) == 1
    assert queued["stored"] == queued["hooked"]
    keys = {h["idempotency-key"] for h in seen}
    assert len(seen) == 2  # the first try and one retry...
    assert keys == {queued["hooked"][0]["idempotencyKey"]}  # ... with the submission's key
    answers.append((201, {"id": 9}))  # the network is back
    done = page.evaluate("window.__civicmap.api.flush().then(d => d.map(x => x.result.status))")
    assert done == [201]
    assert seen[-1]["idempotency-key"] in keys
    assert page.evaluate("window.__civicmap.api.queued()") == []


def test_a_dossier_route_asks_to_sign_in_first(page: Page, live_server: str) -> None:
    page.goto(live_server + "/#/dossiers/1")
    heading = page.get_by_role("heading", name="Đăng nhập để xem hồ sơ của bạn")
    heading.wait_for(timeout=30_000)
    page.locator("#dossier").get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name="Đăng nhập").wait_for()
    assert page.evaluate("location.hash") == "#/account"
    assert page.locator("#dossier").count() == 0  # the dossier's view unmounted


def test_the_card_s_services_open_the_procedure_catalogue(page: Page, live_server: str,
                                                          engine: Engine) -> None:
    with engine.connect() as conn:
        key = conn.exec_driver_sql(
            "SELECT p.parcel_key FROM parcel p JOIN zoning_block b ON ST_CoveredBy(p.geom, "
            "b.geom) WHERE b.function_category = 'residential_existing' LIMIT 1").scalar_one()
    page.goto(live_server + f"/#/parcel/{key}")
    link = page.locator(".services").get_by_role("link",
                                                 name="Cấp giấy phép xây dựng nhà ở riêng lẻ")
    link.click()
    assert page.evaluate("location.hash") == \
        f"#/procedures/construction-permit-house?parcel={key}"
    panel = page.locator("#procedures")
    expect(panel.get_by_role("heading", name="Cấp giấy phép xây dựng nhà ở riêng lẻ")) \
        .to_be_visible(timeout=30_000)
    apply = panel.get_by_role("link", name="Nộp hồ sơ cho thửa này")  # opened from a parcel
    expect(apply).to_have_attribute("href", f"#/apply/construction-permit-house?parcel={key}")
    expect(panel).to_contain_text("15 ngày làm việc")
    expect(panel).to_contain_text("Hai bộ bản vẽ thiết kế xây dựng")
    expect(panel).to_contain_text("Chưa được kiểm chứng")  # unverified facts are marked
    panel.get_by_role("link", name="Danh mục thủ tục").click()
    expect(apply).to_have_count(0)  # the catalogue alone offers no parcel to apply for
    page.get_by_label("Tìm thủ tục").fill("ho kinh doanh")  # without its accents
    results = panel.locator(".procedure-list li")
    expect(results).to_have_count(2)
    expect(results.first).to_contain_text("hộ kinh doanh")
    page.get_by_label("Lĩnh vực").select_option("labour")
    page.get_by_label("Tìm thủ tục").fill("")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Đăng ký nội quy lao động")
