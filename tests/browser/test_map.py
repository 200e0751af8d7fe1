"""The web app in Chromium: the map renders from our server alone, a tap opens the card."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import Page, Request
from sqlalchemy import Connection

from gisapi.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"


def _open(page: Page, url: str) -> list[str]:
    requests: list[str] = []

    def seen(request: Request) -> None:
        requests.append(request.url)

    page.on("request", seen)
    page.goto(url)
    page.wait_for_function("window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    return requests


def test_map_loads_from_this_server_alone(page: Page, live_server: str) -> None:
    requests = _open(page, live_server + "/")
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}
    assert any("/tiles/basemap/" in u for u in requests)
    assert any("/fonts/" in u for u in requests)
    drawn = page.evaluate("window.__civicmap.map.queryRenderedFeatures().length")
    assert drawn > 0
    assert page.evaluate("performance.getEntriesByName('civicmap:first-map').length") == 1


def test_tapping_a_parcel_opens_its_card(page: Page, live_server: str,
                                         conn: Connection) -> None:
    key, lon, lat = conn.exec_driver_sql(
        "SELECT parcel_key, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM parcel ORDER BY parcel_key LIMIT 1 OFFSET 200"
    ).one()
    _open(page, live_server + "/")
    page.evaluate(
        "([lon, lat]) => new Promise(done => { const m = window.__civicmap.map;"
        " m.once('idle', done); m.jumpTo({center: [lon, lat], zoom: 18}); })",
        [lon, lat],
    )
    x, y = page.evaluate(
        "([lon, lat]) => { const m = window.__civicmap.map; const p = m.project([lon, lat]);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lon, lat],
    )
    page.mouse.click(x, y)
    sheet = page.locator("#sheet")
    sheet.wait_for(state="visible", timeout=15_000)
    assert key in sheet.inner_text()
    assert page.evaluate("window.__civicmap.selected") == page.evaluate(
        "window.__civicmap.card.parcel.id")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-with-card.png"))


def test_english_switch(page: Page, live_server: str) -> None:
    _open(page, live_server + "/?lang=en")
    assert page.locator("h1").inner_text() == "District 7 planning map"
    assert page.evaluate("document.documentElement.lang") == "en"
