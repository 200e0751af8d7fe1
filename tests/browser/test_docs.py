"""The API documentation page works from this server alone, under our CSP."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import Page, expect


def test_the_docs_render_our_api_from_here(page: Page, live_server: str) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(live_server + "/docs")
    expect(page.get_by_text("/api/parcels/at").first).to_be_visible(timeout=30_000)
    assert {urlparse(u).netloc for u in asked} == {urlparse(live_server).netloc}
