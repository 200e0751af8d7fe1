"""Debian's Chromium driven by Playwright (the live server is in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.page import wait_for  # noqa: F401 - shared with the benchmarks; tests import it here

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


