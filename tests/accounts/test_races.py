"""Races over every write route: the access matrix's requests that succeed, each sent four
times at once to a served app (real transactions, side by side), as a double tap or a retry
would. Whatever the outcome (one made, the others refused, or all the same), no answer is a
5xx, and none is the error table's backstop for a uniqueness a service's check-then-write lost
to its twin: the service itself decides, as it does for one request.

The world lives in a database of its own: what these requests commit stays out of the other
tests' lists."""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import Engine

from core.pgcluster import PostgresCluster
from core.settings import Settings
from gisapi.main import create_app
from tests.accounts.test_access import FORM, HEADERS, MULTIPART, Case, cases, expected
from tests.accounts.world import World, build
from tests.conftest import _planning_database, _server_env, _serving
from tests.permits.document_files import attach

TWINS = 4
BACKSTOP = "made by another request a moment ago"
# Moves that end the actor's own session or credentials: the routes after them would only
# see 401s.
LEFT_OUT = {("POST", "/api/me/deletion"), ("POST", "/api/me/password"),
            ("POST", "/api/auth/signout"), ("DELETE", "/api/tokens/{token_id}")}


@pytest.fixture(scope="module")
def races(cluster: PostgresCluster, sample_files: dict[str, Path],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str, Path]]:
    """A database of its own with the sample planning data, and the app served over it."""
    own = dataclasses.replace(cluster, dbname="civicmap_races")
    own.ensure_database()
    engine = _planning_database(own, sample_files)
    files = tmp_path_factory.mktemp("races-files")
    with _serving(_server_env(own, files_dir=files,
                              uploads_dir=tmp_path_factory.mktemp("races-uploads"),
                              signing_dir=tmp_path_factory.mktemp("races-signing"))) as url:
        yield engine, url, files
    engine.dispose()


def _encoded(case: Case, world: World) -> tuple[bytes | None, dict[str, str]]:
    """The case's body as bytes, and the headers it goes with."""
    headers = {**world.actors[case.role].headers(), **HEADERS.get((case.method, case.path), {})}
    body = case.body
    if isinstance(body, dict) and MULTIPART in body:
        boundary = uuid.uuid4().hex
        parts = []
        for name, (file_name, data, *kind) in body[MULTIPART].items():
            disposition = f'form-data; name="{name}"'
            if file_name is not None:
                disposition += f'; filename="{file_name}"'
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if kind:
                head += f"Content-Type: {kind[0]}\r\n"
            value = data if isinstance(data, bytes) else str(data).encode()
            parts.append(head.encode() + b"\r\n" + value + b"\r\n")
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return b"".join(parts) + f"--{boundary}--\r\n".encode(), headers
    if isinstance(body, dict) and FORM in body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return urlencode(body[FORM]).encode(), headers
    if body is None:
        return None, headers
    headers["Content-Type"] = "application/json"
    return json.dumps(body).encode(), headers


def _twins(base: str, case: Case, world: World) -> list[tuple[int, str]]:
    """The case sent TWINS times at once: each answer's status and the start of its text."""
    body, headers = _encoded(case, world)
    where = urlsplit(base)
    start = threading.Barrier(TWINS)
    answers: list[tuple[int, str]] = []

    def send() -> None:
        conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=60)
        conn.connect()
        start.wait()
        try:
            conn.request(case.method, case.url, body=body, headers=headers)
            res = conn.getresponse()
            answers.append((res.status, res.read()[:200].decode(errors="replace")))
        except (OSError, http.client.HTTPException) as error:
            answers.append((599, f"{type(error).__name__}: {error}"))
        finally:
            conn.close()

    threads = [threading.Thread(target=send) for _ in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_twin_writes_never_answer_a_5xx(races: tuple[Engine, str, Path]) -> None:
    engine, url, files = races
    with engine.begin() as conn:
        world = build(conn)
        world.documents = {str(d.id): str(attach(conn, files, d.id,
                                                 world.actors[d.owner].person_id or 0))
                           for d in world.dossiers.values()}
    # The routes and their actions, read from an app that serves nothing.
    all_cases = list(cases(create_app(Settings(), engine=engine), world))
    done: set[tuple[str, str]] = set()
    wrong: list[str] = []
    for case in all_cases:
        key = (case.method, case.path)
        if case.method == "GET" or key in done or key in LEFT_OUT \
                or case.relation == "foreign" or expected(world, case) not in ("2xx", "loose"):
            continue
        done.add(key)
        for status, text in _twins(url, case, world):
            # The error table's backstop for a lost uniqueness is a 409, but a route should
            # not need it: its service decides in the statement (ON CONFLICT) or locks first.
            if status >= 500 or BACKSTOP in text:
                wrong.append(f"{case.method} {case.url} as {case.role}: {status} {text}")
    print(f"\nRACES routes={len(done)} requests={len(done) * TWINS} wrong={len(wrong)}")
    assert len(done) > 40
    assert wrong == [], "\n".join(wrong)
