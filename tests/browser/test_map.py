"""The web app in Chromium: the map renders from our server alone, a tap opens the card."""

from __future__ import annotations

import struct
import time
import zlib
from collections import Counter
from urllib.parse import urlparse

from playwright.sync_api import Page, Request, Route
from sqlalchemy import Connection

from core.settings import PROJECT_ROOT
from tests.browser.conftest import wait_for

ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"


def _open(page: Page, url: str) -> list[str]:
    requests: list[str] = []

    def seen(request: Request) -> None:
        requests.append(request.url)

    page.on("request", seen)
    page.goto(url)
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    return requests


def test_map_loads_from_this_server_alone(page: Page, live_server: str) -> None:
    requests = _open(page, live_server + "/")
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}
    assert any("/tiles/basemap/" in u for u in requests)
    assert any("/fonts/" in u for u in requests)
    # our sprite, which the style leaves out until a layer draws icons, decodes in the map
    page.evaluate("window.__civicmap.map.setSprite(location.origin + '/sprites/district')")
    wait_for(page, "window.__civicmap.map.hasImage('feedback')", timeout=10_000)
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
    text = sheet.inner_text()
    assert key in text
    card = page.evaluate("window.__civicmap.card")
    assert card["plans"][0]["decision_no"] in text
    day, month, year = card["plans"][0]["decision_date"].split("-")[::-1]
    assert f"{day}/{month}/{year}" in text  # dd/mm/yyyy
    assert page.evaluate("window.__civicmap.selected") == page.evaluate(
        "window.__civicmap.card.parcel.id")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-with-card.png"))


def test_english_switch(page: Page, live_server: str) -> None:
    _open(page, live_server + "/?lang=en")
    assert page.locator("h1").inner_text() == "District 7 planning map"
    assert page.evaluate("document.documentElement.lang") == "en"


def _a_parcel(conn: Connection, offset: int) -> tuple[str, int, int, str]:
    key, sheet, number, ward = conn.exec_driver_sql(
        "SELECT p.parcel_key, p.sheet_no, p.parcel_no, w.name FROM parcel p "
        "JOIN admin_unit w ON w.id = p.ward_id ORDER BY p.parcel_key LIMIT 1 OFFSET %(o)s",
        {"o": offset},
    ).one()
    return str(key), int(sheet), int(number), str(ward)


def test_search_by_ward_sheet_and_number(page: Page, live_server: str,
                                         conn: Connection) -> None:
    key, sheet, number, ward = _a_parcel(conn, 321)
    _open(page, live_server + "/")
    page.fill("#q", f"{ward} {sheet}/{number}")
    page.press("#q", "Enter")
    page.locator("#results button").first.click()
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    assert key in page.locator("#sheet").inner_text()
    assert page.evaluate("location.hash") == f"#/parcel/{key}"


def test_deep_link_reopens_the_parcel(page: Page, live_server: str, conn: Connection) -> None:
    key, _, _, _ = _a_parcel(conn, 654)

    def slow_style(route: Route) -> None:  # the card comes before the map has its style
        time.sleep(1.5)
        route.continue_()

    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.removeprefix(live_server).split("?")[0]))
    page.route("**/styles/district.json", slow_style)
    _open(page, f"{live_server}/#/parcel/{key}")
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    assert key in page.locator("#sheet").inner_text()
    # The page asks for the card while the app downloads, once: before the app has even made
    # the map's worker.
    assert asked.count(f"/api/parcels/{key}") == 1
    assert asked.index(f"/api/parcels/{key}") < asked.index("/maplibre-gl-worker.mjs")
    assert page.evaluate("window.__civicmap.map.getZoom()") > 15
    # the parcel is highlighted once the map has loaded
    assert page.evaluate("(() => { const s = window.__civicmap; return s.map.getFeatureState("
                         "{source: 'district', sourceLayer: 'parcels', id: s.selected}).selected"
                         " })()") is True


def test_language_button_switches_and_remembers(page: Page, live_server: str) -> None:
    _open(page, live_server + "/")
    assert page.locator("h1").inner_text() == "Bản đồ quy hoạch Quận 7"
    page.click("#lang")
    wait_for(page, "document.documentElement.lang === 'en'")
    assert page.locator("h1").inner_text() == "District 7 planning map"
    assert page.get_attribute("#q", "placeholder").startswith("Parcel key")
    page.goto(live_server + "/")  # no ?lang: the choice was remembered
    wait_for(page, "document.documentElement.lang === 'en'")


def test_offline_reload_still_shows_the_shell_and_the_last_card(
    page: Page, live_server: str, conn: Connection
) -> None:
    key, _, _, _ = _a_parcel(conn, 987)
    _open(page, f"{live_server}/#/parcel/{key}")
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # now under the service worker's control: it keeps what is fetched
    wait_for(page, "navigator.serviceWorker.controller !== null")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    page.context.set_offline(True)
    try:
        page.reload()
        assert page.locator("h1").inner_text() == "Bản đồ quy hoạch Quận 7"
        page.locator("#offline").wait_for(state="visible")
        page.locator("#sheet").wait_for(state="visible", timeout=15_000)
        assert key in page.locator("#sheet").inner_text()
    finally:
        page.context.set_offline(False)


def test_layer_switcher_and_legend(page: Page, live_server: str) -> None:
    _open(page, live_server + "/")
    page.click("#layers-button")
    assert page.get_attribute("#layers-button", "aria-expanded") == "true"
    page.locator("#legend li").first.wait_for()
    assert "ODT" in page.locator("#legend").inner_text()
    # Unset is MapLibre's default, visible (the switcher sets it only when a box changes it).
    visibility = "window.__civicmap.map.getLayoutProperty('land-use', 'visibility') ?? 'visible'"
    assert page.evaluate(visibility) == "visible"
    page.uncheck("#layers input[value=land-use]")
    assert page.evaluate(visibility) == "none"


def test_card_is_reachable_by_keyboard(page: Page, live_server: str, conn: Connection) -> None:
    key, _, _, _ = _a_parcel(conn, 111)
    _open(page, f"{live_server}/#/parcel/{key}")
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    assert page.evaluate("document.activeElement.id") == "sheet-title"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#sheet') !== null")
    page.keyboard.press("Escape")
    page.locator("#sheet").wait_for(state="hidden")


def test_controls_are_labelled_touch_targets(page: Page, live_server: str) -> None:
    _open(page, live_server + "/")
    small = page.evaluate(
        "[...document.querySelectorAll('button, input, [role=button]')]"
        ".filter(e => e.offsetParent !== null)"
        ".map(e => [e.getAttribute('aria-label') || e.textContent.trim() || e.id,"
        " e.getBoundingClientRect()])"
        ".filter(([, r]) => r.width < 44 || r.height < 44).map(([n]) => n)"
    )
    assert small == []
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('button')].filter(e => e.offsetParent !== null"
        " && !(e.getAttribute('aria-label') || e.textContent.trim())).length"
    )
    assert unlabelled == 0
    assert page.get_attribute(".maplibregl-ctrl-zoom-in", "aria-label") == "Phóng to"


def _pixels(png: bytes) -> list[list[tuple[int, int, int]]]:
    """RGB rows of a PNG as Chromium writes screenshots (8-bit RGB/RGBA, not interlaced)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(png):
        size, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8
            assert colour in (2, 6)
            assert not interlace
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + size
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prior = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prior[i], prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                near = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (
                    b if abs(p - b) <= abs(p - c) else c)
                line[i] = (line[i] + near) & 255
        rows.append([(line[x], line[x + 1], line[x + 2]) for x in range(0, stride, bpp)])
        prior = line
    return rows


VISIBLE_MAP = """() => {
  const m = window.__civicmap.map, map = m.getContainer().getBoundingClientRect();
  const sheet = document.getElementById('sheet').getBoundingClientRect();
  // below the layers button, left of the zoom buttons, above the card
  return {x: map.left, y: map.top + 56, width: map.width - 64, height: sheet.top - map.top - 56};
}"""

PARCEL_BOX = """() => {
  const s = window.__civicmap, xs = [], ys = [];
  const walk = (c) => typeof c[0] === 'number' ? (() => { const p = s.map.project(c);
    xs.push(p.x); ys.push(p.y); })() : c.forEach(walk);
  walk(s.card.parcel.geometry.coordinates);
  const top = s.map.getContainer().getBoundingClientRect().top;
  return [Math.min(...xs), top + Math.min(...ys), Math.max(...xs), top + Math.max(...ys)];
}"""


def _assert_parcel_shown_above_the_card(page: Page, name: str) -> None:
    """The map above the card is drawn (not blank), the highlighted parcel inside it."""
    wait_for(page, "(() => { const s = window.__civicmap; return s.loaded && s.card &&"
                           " !s.map.isMoving() && s.map.getFeatureState({source: 'district',"
                           " sourceLayer: 'parcels', id: s.selected}).selected; })()",
                           timeout=30_000)
    page.evaluate("new Promise(done => { const m = window.__civicmap.map;"
                  " if (m.loaded() && m.areTilesLoaded()) done(); else m.once('idle', done); })")
    clip = page.evaluate(VISIBLE_MAP)
    assert clip["height"] >= 100, clip  # a phone keeps a useful strip of map above the card
    # The whole screen as shown, cropped here: a clip capture is composited apart and showed
    # the map even while the screen had the white band.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = page.screenshot(path=str(ARTIFACTS / f"map-with-card-{name}.png"))
    x, y = round(clip["x"]), round(clip["y"])
    rows = [row[x:x + round(clip["width"])] for row in _pixels(shot)[y:y + round(clip["height"])]]
    colours = Counter((r >> 3, g >> 3, b >> 3) for row in rows for r, g, b in row)
    total = sum(colours.values())
    white = sum(n for (r, g, b), n in colours.items() if min(r, g, b) >= 30)  # >= 240 of 255
    assert white / total < 0.5, f"the map above the card is blank ({white / total:.0%} white)"
    assert colours.most_common(1)[0][1] / total < 0.95, "the map above the card is near-uniform"
    assert len(colours) >= 8, "the map above the card is near-uniform"
    # The parcel, whole, in that strip, small enough for its neighbours to show around it...
    left, top, right, bottom = page.evaluate(PARCEL_BOX)
    assert clip["x"] <= left, (left, clip)
    assert right <= clip["x"] + clip["width"], (right, clip)
    assert clip["y"] <= top, (top, clip)
    assert bottom <= clip["y"] + clip["height"], (bottom, clip)
    assert (right - left) * (bottom - top) < 0.5 * clip["width"] * clip["height"]
    # ... and drawn highlighted: the red outline's pixels are on screen there.
    red = sum(1 for row in rows for r, g, b in row if r > 180 and g < 80 and b < 80)
    assert red > 50, f"{red} highlighted pixels above the card"


def test_deep_link_shows_the_parcel_above_the_card(page: Page, live_server: str,
                                                   conn: Connection) -> None:
    key, _, _, _ = _a_parcel(conn, 777)
    _open(page, f"{live_server}/#/parcel/{key}")
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    _assert_parcel_shown_above_the_card(page, "deep-link")


def test_tap_low_on_the_screen_brings_the_parcel_above_the_card(
    page: Page, live_server: str, conn: Connection
) -> None:
    key, lon, lat = conn.exec_driver_sql(
        "SELECT parcel_key, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM parcel ORDER BY parcel_key LIMIT 1 OFFSET 420"
    ).one()
    _open(page, live_server + "/")
    # The parcel low on the screen, where the card will cover it.
    page.evaluate(
        "([lon, lat]) => new Promise(done => { const m = window.__civicmap.map;"
        " m.jumpTo({center: [lon, lat], zoom: 18}); m.once('idle', done);"
        " m.panBy([0, -200], {duration: 0}); })",
        [lon, lat],
    )
    x, y = page.evaluate(
        "([lon, lat]) => { const m = window.__civicmap.map; const p = m.project([lon, lat]);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lon, lat],
    )
    assert y > 500
    page.mouse.click(x, y)
    page.locator("#sheet").wait_for(state="visible", timeout=15_000)
    assert key in page.locator("#sheet").inner_text()
    _assert_parcel_shown_above_the_card(page, "tap")
