"""The public reports layer in the web app: the first map waits for none of its tiles, then
the app shows it (and the layers panel hides it again)."""

from __future__ import annotations

from playwright.sync_api import Page, Route

from tests.browser.conftest import wait_for

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
