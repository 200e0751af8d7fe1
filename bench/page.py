"""Waiting on a page under our Content-Security-Policy (the benchmarks and the browser tests)."""

from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page


def wait_for(page: Page, expression: str, timeout: float = 30_000) -> None:
    """Wait until a JavaScript expression is truthy.

    Playwright's wait_for_function evaluates its predicate with eval inside the page, which
    our CSP (no 'unsafe-eval') rightly refuses; page.evaluate runs outside the page's CSP.
    """
    deadline = time.monotonic() + timeout / 1000
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if page.evaluate(expression):
                return
            last = None
        except PlaywrightError as exc:  # not there yet (say, before the app has loaded)
            last = exc
        page.wait_for_timeout(100)
    raise AssertionError(f"not true within {timeout / 1000:.0f} s: {expression}") from last
