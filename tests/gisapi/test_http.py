"""HTTP manners in one place: headers on every answer, HEAD wherever GET, and failures that
say nothing of their cause (a database gone is a 503, anything else a 500 with a request id)."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.errors import BUSY
from core.migrate import upgrade
from core.pgcluster import PostgresCluster
from core.settings import Settings
from gisapi.main import create_app

SAMPLE_PARAMS = {"layer": "parcels", "z": "16", "x": "52212", "y": "30948",
                 "fontstack": "Noto Sans Regular", "range": "0-255", "collection_id": "parcels",
                 "layer_id": "plan", "format": "json"}
MANNERS = ("content-security-policy", "x-content-type-options", "referrer-policy",
           "x-frame-options")


def _sample_paths(client: TestClient, conn: Connection) -> list[str]:
    """Every GET route of the OpenAPI document with plausible values, plus the web app."""
    key = conn.exec_driver_sql("SELECT parcel_key FROM parcel LIMIT 1").scalar_one()
    params = {**SAMPLE_PARAMS, "parcel_key": key}
    paths = ["/", "/app.js", "/manifest.webmanifest", "/docs", "/docs/swagger-ui.css"]
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" in operations:
            paths.append(re.sub(r"\{(\w+)\}", lambda m: params.get(m[1], "1"), path))
    return paths


def test_every_route_answers_head_as_get_with_the_headers(client: TestClient,
                                                          conn: Connection) -> None:
    paths = _sample_paths(client, conn)
    assert len(paths) > 30
    for path in paths:
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        for answer in (got, head):
            for name in MANNERS:
                assert name in answer.headers, (path, name)
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        csp = got.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp, path
        assert "http" not in csp, path


def test_the_page_allows_its_own_inline_script_by_hash(client: TestClient) -> None:
    page = client.get("/")
    inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    assert inline, "the page has its inline script"
    hashes = re.findall(r"'sha256-([A-Za-z0-9+/=]+)'", page.headers["content-security-policy"])
    import base64
    import hashlib

    assert {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
            for s in inline} <= set(hashes)


def test_an_unexpected_error_answers_500_with_a_request_id_only(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    @client.app.get("/api/-/explode", include_in_schema=False)  # type: ignore[attr-defined]
    def explode() -> None:
        raise RuntimeError("secret detail /etc/passwd")

    quiet = TestClient(client.app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="civicmap.errors"):
        answer = quiet.get("/api/-/explode")
    assert answer.status_code == 500
    body = answer.json()
    assert set(body) == {"detail", "request_id"}
    assert "secret" not in answer.text
    assert "RuntimeError" not in answer.text
    assert body["request_id"] == answer.headers["x-request-id"]
    assert any(body["request_id"] in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_statement_or_lock_timeout_answers_503_busy(client: TestClient,
                                                       conn: Connection) -> None:
    """The database answered, too slowly: a 503 to retry, that says it is busy, not gone."""
    @client.app.get("/api/-/slow", include_in_schema=False)  # type: ignore[attr-defined]
    def slow() -> None:
        with conn.begin_nested():
            conn.exec_driver_sql("SET LOCAL statement_timeout = '20ms'")
            conn.exec_driver_sql("SELECT pg_sleep(2)")

    quiet = TestClient(client.app, raise_server_exceptions=False)
    answer = quiet.get("/api/-/slow")
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["detail"] == BUSY
    assert "statement timeout" not in answer.text


def test_a_uniqueness_lost_to_a_twin_request_answers_409_naming_the_key_not_its_value(
        client: TestClient, conn: Connection) -> None:
    """The backstop for a race a service does not handle: never a 500, never the value."""
    @client.app.post("/api/-/twice", include_in_schema=False)  # type: ignore[attr-defined]
    def twice() -> None:
        with conn.begin_nested():  # rolled back by the failure, as the request's would be
            for _ in range(2):
                conn.exec_driver_sql("INSERT INTO person (phone, password_hash, display_name) "
                                     "VALUES ('+84912345678', 'x', 'Hai Lần')")

    quiet = TestClient(client.app, raise_server_exceptions=False)
    answer = quiet.post("/api/-/twice")
    assert answer.status_code == 409, answer.text
    assert answer.json()["field"] == "phone"
    assert "912345678" not in answer.text
    assert "INSERT" not in answer.text


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of its own, which the test stops and starts."""
    home = Path(tempfile.mkdtemp(prefix="civicmap-test-down-"))
    pg = PostgresCluster(home, fast_unsafe=True)
    pg.start()
    yield pg
    pg.destroy()


def test_a_database_that_cannot_be_reached_answers_503_and_recovers(
        own_cluster: PostgresCluster) -> None:
    from sqlalchemy import create_engine

    migrating = create_engine(own_cluster.sqlalchemy_url())
    with migrating.begin() as conn:
        upgrade(conn)
    migrating.dispose()
    settings = Settings(database_url=own_cluster.sqlalchemy_url(), tile_cache_size=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        paths = ("/api/parcels/at?lon=106.7195&lat=10.7335", "/api/parcels/277790010001",
                 "/api/health", "/tiles/parcels/16/52212/30948.mvt", "/api/search?q=tan")
        before = {p: client.get(p).status_code for p in paths}
        assert all(status < 500 for status in before.values()), before
        own_cluster.stop("immediate")
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["retry-after"].isdigit()
            assert "Errno" not in answer.text
            assert "No such file" not in answer.text
            assert "cannot be reached" in answer.json()["detail"]
        own_cluster.start()
        started = time.monotonic()
        while client.get("/api/health").status_code != 200:
            assert time.monotonic() - started < 10, "no recovery without a restart"
            time.sleep(0.05)
        assert {p: client.get(p).status_code for p in paths} == before
