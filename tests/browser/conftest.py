"""Debian's Chromium driven by Playwright (the live server is in tests/conftest.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: make setup installs it")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page; whatever our Content-Security-Policy refuses fails the test."""
    context = browser.new_context(viewport={"width": 412, "height": 860},
                                  device_scale_factor=1, is_mobile=True, has_touch=False)
    tab = context.new_page()
    refused: list[str] = []
    tab.on("console", lambda m: refused.append(m.text)
           if m.type == "error" and "Content Security Policy" in m.text else None)
    yield tab
    context.close()
    assert refused == [], "the page did something its CSP refuses"


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
