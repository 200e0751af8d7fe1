"""The built web app as the platform serves it: compressed copies, caching, no stray files."""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from gisapi.web import DIST


@pytest.mark.parametrize("name", ["app.js", "maplibre-gl-worker.mjs", "app.css"])
def test_the_smallest_coding_the_browser_accepts(client: TestClient, name: str) -> None:
    plain = (DIST / name).read_bytes()
    res = client.get(f"/{name}", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert res.headers["content-encoding"] == "br"
    assert res.content == (DIST / f"{name}.br").read_bytes()
    assert len(res.content) < len((DIST / f"{name}.gz").read_bytes())
    assert res.headers["vary"] == "Accept-Encoding"
    assert res.headers["cache-control"] == "public, max-age=3600"
    res = client.get(f"/{name}", headers={"Accept-Encoding": "gzip, br;q=0"})
    assert res.headers["content-encoding"] == "gzip"
    assert gzip.decompress((DIST / f"{name}.gz").read_bytes()) == plain == res.content
    res = client.get(f"/{name}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in res.headers
    assert res.content == plain


def test_the_page_is_revalidated_and_other_files_are_not_served(client: TestClient) -> None:
    res = client.get("/", headers={"Accept-Encoding": "br"})
    assert res.headers["cache-control"] == "no-cache"
    assert res.headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/app.js.br").status_code == 404  # only what the page names
    assert client.get("/index.py").status_code == 404
    assert client.get("/..%2Fpyproject.toml").status_code in (404, 422)
