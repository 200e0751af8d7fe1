"""The public reports layer in the web app: the first map waits for none of its tiles, then
the app shows it (and the layers panel hides it again); today's flood events with it."""

from __future__ import annotations

import secrets

from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import Engine

from accounts.service import GrantSpec
from tests.browser.conftest import wait_for
from tests.browser.test_dossiers import _as, _person
from tests.browser.test_feedback import _code
from tests.permits.test_feedback import LAT, LON

REPORT_LAYERS = ("feedback-clusters", "feedback-cluster-counts", "feedback-points")


def _visibility(page: Page) -> list[str]:
    return list(page.evaluate(
        "(ids) => ids.map(id => window.__civicmap.map.getLayoutProperty(id, 'visibility'))",
        list(REPORT_LAYERS)))


def test_the_first_map_waits_for_no_report_tile(page: Page, live_server: str) -> None:
    held: list[Route] = []
    # Report tiles are held unanswered: a first map that waited for them would never come.
    page.route("**/tiles/feedback/**", lambda route: held.append(route))
    page.goto(live_server + "/")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    assert page.evaluate("performance.getEntriesByName('civicmap:first-map').length") == 1
    # Then the app shows the reports, and their tiles are asked for.
    wait_for(page, "window.__civicmap.map.getLayoutProperty('feedback-points', 'visibility')"
                   " === 'visible'", timeout=10_000)
    assert _visibility(page) == ["visible"] * 3
    for _ in range(100):  # the route handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "no report tile was asked for once the layer was shown"
    assert all("/tiles/feedback/" in r.request.url and r.request.url.endswith(".mvt")
               for r in held)
    for route in held:
        route.continue_()
    # The layers panel's box hides them again.
    page.click("#layers-button")
    page.uncheck("#layers input[value=feedback]")
    assert _visibility(page) == ["none"] * 3


def _flood_report(page: Page, live_server: str, engine: Engine, lon: float,
                  lat: float) -> tuple[int, int]:
    """A confirmed drainage-and-flooding report there: its number and its flood event's."""
    sent = page.request.post(f"{live_server}/api/feedback", data={
        "category": "drainage-flooding", "description": "Nước ngập đến đầu gối sau mưa",
        "lon": lon, "lat": lat, "name": "Người Lội Nước",
        "phone": "09" + "".join(secrets.choice("0123456789") for _ in range(8))},
        # Another citizen's address (the server trusts the loopback's X-Forwarded-For): the
        # browser tests' reports together stay under the per-address limit.
        headers={"Idempotency-Key": secrets.token_hex(16),
                 "X-Forwarded-For": f"10.7.{secrets.randbelow(256)}.{secrets.randbelow(256)}"})
    assert sent.status == 201, sent.text()
    report = sent.json()["id"]
    confirmed = page.request.post(f"{live_server}/api/feedback/{report}/confirm",
                                  data={"code": _code(engine, report)})
    assert confirmed.status == 200, confirmed.text()
    with engine.connect() as conn:
        return report, int(conn.exec_driver_sql(
            "SELECT flood_id FROM feedback_report WHERE id = %(i)s", {"i": report}).scalar_one())


def test_todays_flood_event_is_drawn_under_the_reports_closed_by_an_officer(
        page: Page, live_server: str, engine: Engine, browser: Browser) -> None:
    # Two reports 100 m apart at the map's centre: one event (perhaps one that others' reports
    # of today already opened there).
    report, flood = _flood_report(page, live_server, engine, LON, LAT)
    assert _flood_report(page, live_server, engine, LON + 0.0009, LAT)[1] == flood
    page.goto(live_server + "/")
    wait_for(page, "window.__civicmap && window.__civicmap.loaded", timeout=90_000)
    wait_for(page, "Boolean(window.__civicmap.map.getLayer('floods'))", timeout=20_000)
    # The source's data is laid out off the main thread: its features come a moment later.
    ours = ("window.__civicmap.map.querySourceFeatures('floods')"
            f".filter(f => f.properties.id === {flood}).map(f => f.properties)")
    wait_for(page, f"{ours}.length > 0", timeout=20_000)
    drawn = page.evaluate(ours)
    assert drawn[0]["status"] == "open"
    assert drawn[0]["reports"] >= 2
    assert drawn[0]["label"] == f"Ngập · {drawn[0]['reports']} phản ánh"
    ids = page.evaluate("window.__civicmap.map.getStyle().layers.map(l => l.id)")
    # Under the reports: a tap on a report still opens it.
    assert ids.index("floods") < ids.index("feedback-clusters")
    assert ids.index("flood-labels") < ids.index("feedback-points")
    wait_for(page, "(() => { const m = window.__civicmap.map; const c = m.project(["
                   f"{LON + 0.00045}, {LAT}]); return m.queryRenderedFeatures(c, {{layers: "
                   "['floods']}).length > 0; })()", timeout=20_000)
    page.click("#layers-button")
    page.uncheck("#layers input[value=feedback]")
    assert page.evaluate("['floods', 'flood-outlines', 'flood-labels'].map(id => "
                         "window.__civicmap.map.getLayoutProperty(id, 'visibility'))"
                         ) == ["none"] * 3

    # The report's page says which event it is part of; an officer of the department closes
    # the event from there.
    page.goto(f"{live_server}/#/feedback/{report}")
    part = page.locator("#feedback-flood")
    expect(part).to_contain_text("Thuộc đợt ngập ngày", timeout=30_000)
    expect(part.locator("form")).to_have_count(0)  # the public cannot close it
    with engine.connect() as conn:
        ward, department = conn.exec_driver_sql(
            "SELECT ward_code, department FROM feedback_report WHERE id = %(i)s",
            {"i": report}).one()
    token, _ = _person(engine, "Cán Bộ Thoát Nước", GrantSpec("officer", department, (ward,)))
    context = browser.new_context()
    try:
        officer = context.new_page()
        _as(officer, live_server, token, f"#/feedback/{report}")
        close = officer.locator("#feedback-flood form[data-action='close-flood']")
        close.get_by_label("Lời nhắn cho người dân").fill("Nước đã rút hết")
        close.get_by_role("button", name="Đóng đợt ngập (báo cho mọi người đã phản ánh)"
                          ).click()
        expect(officer.locator("#feedback-flood")).to_contain_text(
            "Đợt ngập đã kết thúc", timeout=30_000)
    finally:
        context.close()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT status FROM feedback_flood WHERE id = %(i)s",
                                    {"i": flood}).scalar_one() == "closed"
