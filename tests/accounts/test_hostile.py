"""Hostile input over every route: the access matrix's requests that succeed, each taken apart
(a field of the wrong type, too long, a NUL byte, a body that is not JSON or nests without end,
path and query values out of range, headers out of shape). Every answer is a 4xx or a 2xx,
never a 5xx, and a 4xx says what it refused and leaves nothing written: no row (beyond the
audit and the rate counters, kept by design) and no file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from core.deps import get_connection
from tests.accounts.test_access import FORM, HEADERS, MULTIPART, Case, cases, expected
from tests.accounts.world import MY_WARD, PERMIT, World, build
from tests.conftest import app_client
from tests.permits.document_files import attach

# What a field may be sent as instead of what it should be.
WRONG_VALUES: tuple[Any, ...] = (None, "", "x" * 20_000, -1, 2**70, 1.5, -0.0, float("1e308"),
                                 True, [], {}, [None], {"": None}, "\x00", "2026-13-45",
                                 "2026-02-29", "0001-01-01", "9999-12-31",
                                 "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00",
                                 10**9, "' OR 1=1 --", "<script>alert(1)</script>")
# What a path or query value may be sent as.
WRONG_PARAMS = ("0", "-1", "99999999999999999999999999", "abc", "%00", "%C3%BC", "..%2F..",
                "a" * 3000, "1e308", "NaN", "%FF", "-", "1000000000", "0001-01-01",
                "9999-12-31", "2026-02-30")
NESTED = b"[" * 100_000 + b"]" * 100_000
WRONG_BODIES: tuple[bytes, ...] = (b"{", b"null", b"[]", b'"x"', b"\xff\xfe", NESTED,
                                   b'{"a": ' * 5000 + b"1" + b"}" * 5000,
                                   b'{"a": "' + b"x" * (3 << 20) + b'"}')  # past every limit
# Headers out of shape (a header's bytes need not be ASCII: sent as they come).
WRONG_HEADERS: dict[str, tuple[str | bytes, ...]] = {
    "If-Match": ("", "garbage", '"' + "x" * 190 + '"', 'W/"a", *'),
    "Idempotency-Key": ("", "k" * 300, "ключ".encode(), " ")}

# Rows a refusal keeps on purpose: the audit of what was refused, the counters of the rate limits.
KEPT_ON_REFUSAL = frozenset({"audit_event", "rate_hit"})
# A trigger on every table notes each row written in a temporary table (both gone with the
# test's transaction). A request's own writes roll back with its error, as the pool's
# transaction does when served: what a 4xx leaves noted there was half-written. Not the queue's
# tables, and no queue worker (`client` below): creating a trigger locks its table until the
# test ends, and a worker writing there (its heartbeat, an outbox message a test before this
# one committed) would wait for it, and the app's shutdown for the worker.
RECORD_WRITES = """
CREATE TEMP TABLE hostile_write (tbl text, op text);
CREATE FUNCTION hostile_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO hostile_write VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
DO $$
DECLARE t regclass;
BEGIN
  FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
             AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND n.nspname NOT LIKE 'pg\\_%' AND c.relname NOT LIKE 'procrastinate\\_%' LOOP
    EXECUTE format('CREATE TRIGGER hostile_write AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION hostile_record()', t);
  END LOOP;
END $$;
"""


@pytest.fixture
def client(engine: Engine, conn: Connection, uploads_dir: Path, files_dir: Path,
           signing_dir: Path) -> Iterator[TestClient]:
    """The app with no queue worker of its own (see RECORD_WRITES)."""
    with app_client(engine, conn, uploads_dir, files_dir, signing_dir,
                    embedded_worker=False) as test_client:
        yield test_client


@dataclass
class Declared:
    """What an operation of the OpenAPI document says it reads."""

    query: list[str]
    headers: list[str]
    body: list[str] | None  # the JSON body's fields; None: it reads no body
    form: list[str]  # the fields of a form (multipart or url-encoded) body


def _fields(document: dict[str, Any], content: dict[str, Any], kind: str) -> list[str] | None:
    if kind not in content:
        return None
    schema = content[kind].get("schema", {})
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return list(schema.get("properties", {}))


def _declared(document: dict[str, Any], operation: dict[str, Any]) -> Declared:
    params = operation.get("parameters", [])
    content = operation.get("requestBody", {}).get("content", {})
    json_body = _fields(document, content, "application/json")
    return Declared([p["name"] for p in params if p["in"] == "query"],
                    [p["name"] for p in params if p["in"] == "header"],
                    json_body if json_body is not None or "requestBody" not in operation
                    else [],
                    _fields(document, content, "multipart/form-data")
                    or _fields(document, content, "application/x-www-form-urlencoded") or [])


def _variants(case: Case, declared: Declared) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(what was changed, url, request keyword arguments) for one case taken apart: the
    sample body's fields, those of the body's schema that the sample leaves out, and what the
    operation declares it reads (a body, query parameters, headers)."""
    body = case.body
    body_names = declared.body or []
    if isinstance(body, dict) and MULTIPART not in body and FORM not in body:
        for key, value in {**body, **{n: None for n in body_names if n not in body}}.items():
            for wrong in WRONG_VALUES:
                yield f"body.{key}={wrong!r:.40}", case.url, {"json": {**body, key: wrong}}
            if isinstance(value, dict):
                for inner in value:
                    for wrong in WRONG_VALUES:
                        yield (f"body.{key}.{inner}={wrong!r:.40}", case.url,
                               {"json": {**body, key: {**value, inner: wrong}}})
        yield "body.unknown", case.url, {"json": {**body, "unknown_field": 1}}
        for key in body:  # FastAPI reads every application/…+json as JSON too
            yield (f"body.{key}=NUL as +json", case.url,
                   {"content": json.dumps({**body, key: "\x00"}).encode(),
                    "headers": {"Content-Type": "application/vnd.api+json"}})
    if declared.body is not None and not (
            isinstance(body, dict) and (MULTIPART in body or FORM in body)):
        for raw in WRONG_BODIES:
            yield (f"raw body {raw[:12]!r}", case.url,
                   {"content": raw, "headers": {"Content-Type": "application/json"}})
    if isinstance(body, dict) and FORM in body:
        for key in body[FORM]:
            for wrong in ("", "\x00", "x" * 20_000, "-1", "1e308", "NaN"):
                yield (f"form.{key}={wrong!r:.20}", case.url,
                       {"data": {**body[FORM], key: wrong}})
    if isinstance(body, dict) and MULTIPART in body:
        # The sample's fields, and the text fields the form declares that it leaves out.
        parts = {**dict.fromkeys(declared.form, (None, "")), **body[MULTIPART]}
        for key, value in parts.items():
            if value[0] is None:  # a text field beside the file
                for wrong in ("", "\x00", "x" * 20_000, "x=\x00y"):
                    yield (f"multipart.{key}={wrong!r:.20}", case.url,
                           {"files": {**body[MULTIPART], key: (None, wrong)}})
            else:  # the file: empty, cut, NUL bytes, a NUL inside its text
                name, data, *kind = value
                for label, wrong in (("empty", b""), ("cut", data[:len(data) // 2]),
                                     ("NULs", b"\x00" * 64),
                                     ("NUL in text", data.replace(b",", b",\x00", 1)
                                      .replace(b'"type"', b'"ty\\u0000pe"', 1)),
                                     ("CSV row with NUL", data + b"incoming,1\x00,a,2026-01-05,"
                                      b"UBND,x,CV\n")):
                    yield (f"multipart.{key} {label}", case.url,
                           {"files": {**body[MULTIPART], key: (name, wrong, *kind)}})
        yield "multipart as JSON", case.url, {"json": {"file": "x"}}
        yield ("multipart broken", case.url,
               {"content": b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nxx",
                "headers": {"Content-Type": "multipart/form-data; boundary=b"}})
    path, _, query = case.url.partition("?")
    for name in re.findall(r"{(\w+)}", case.path):
        # The sample value sits where the template names it: replace that segment.
        template = case.path.split("/")
        at = next(i for i, part in enumerate(template) if f"{{{name}}}" in part)
        parts = path.split("/")
        if at >= len(parts) or template[at] != f"{{{name}}}":
            continue
        for wrong in WRONG_PARAMS:
            changed = "/".join([*parts[:at], wrong, *parts[at + 1:]])
            yield f"path {name}={wrong:.20}", changed + (f"?{query}" if query else ""), {}
    names = [p.split("=")[0] for p in query.split("&") if p] + declared.query
    # Reads may take these from the query string as it comes, declared or not (OGC's items).
    for name in dict.fromkeys([*names, *(("limit", "offset", "bbox") if case.method == "GET"
                                          else ())]):
        for wrong in WRONG_PARAMS:
            kept = "&".join(p for p in query.split("&") if p and p.split("=")[0] != name)
            yield (f"query {name}={wrong:.20}", f"{path}?{kept}&{name}={wrong}".replace("?&", "?"),
                   {})
    for header, values in WRONG_HEADERS.items():
        for wrong in values if header in declared.headers else ():
            yield f"header {header}={wrong!r:.20}", case.url, {"headers": {header: wrong}}


def _request(client: TestClient, world: World, case: Case, url: str,
             kwargs: dict[str, Any]) -> Any:
    headers = {**world.actors[case.role].headers(), **HEADERS.get((case.method, case.path), {}),
               **kwargs.pop("headers", {})}
    if not kwargs and isinstance(case.body, dict) and MULTIPART in case.body:
        return client.request(case.method, url, files=case.body[MULTIPART], headers=headers)
    if not kwargs and isinstance(case.body, dict) and FORM in case.body:
        return client.request(case.method, url, data=case.body[FORM], headers=headers)
    if not kwargs and case.body is not None:
        kwargs = {"json": case.body}
    if "json" in kwargs:
        kwargs = {"content": json.dumps(kwargs["json"]).encode()}
        headers["Content-Type"] = "application/json"
    return client.request(case.method, url, headers=headers, **kwargs)


def _files(*folders: Path) -> set[str]:
    return {os.path.join(top, name) for folder in folders for top, _, names in os.walk(folder)
            for name in names}


def _left(conn: Connection) -> list[str]:
    """The tables a request left rows written in, beyond those a refusal keeps."""
    return [f"{op} {table}" for table, op in conn.exec_driver_sql(
        "SELECT DISTINCT tbl, op FROM hostile_write ORDER BY 1, 2")
        if table not in KEPT_ON_REFUSAL]


def test_no_hostile_input_reaches_a_5xx_or_leaves_anything_written(
        client: TestClient, conn: Connection) -> None:
    world = build(conn)
    settings = client.app.state.settings
    files = settings.file_dir
    world.documents = {str(d.id): str(attach(conn, files, d.id, world.actors[d.owner].person_id
                                             or 0)) for d in world.dossiers.values()}
    conn.connection.driver_connection.execute(RECORD_WRITES)  # type: ignore[union-attr]

    def per_request() -> Iterator[Connection]:
        # The request's own transaction, as the pool's: it rolls back with the route's error.
        with conn.begin_nested():
            yield conn
    client.app.dependency_overrides[get_connection] = per_request
    document = client.app.openapi()
    declared = {(method.upper(), path): _declared(document, operation)
                for path, operations in document["paths"].items()
                for method, operation in operations.items()}
    done: set[tuple[str, str]] = set()
    wrong: list[str] = []
    sent = writes = 0
    for case in cases(client.app, world):
        # One role that may, on its own object: past the policy, into the route's own checks.
        if (case.method, case.path) in done or expected(world, case) not in ("2xx", "loose") \
                or case.relation == "foreign":
            continue
        done.add((case.method, case.path))
        for what, url, kwargs in _variants(case, declared[(case.method, case.path)]):
            savepoint = conn.begin_nested()
            before = _files(files, settings.upload_dir)
            try:
                res = _request(client, world, case, url, dict(kwargs))
                left = _left(conn) if res.status_code < 500 else []
            except Exception as error:  # the test client raises what the server would 500 on
                wrong.append(f"{case.method} {case.path} as {case.role}, {what}: "
                             f"{type(error).__name__}: {str(error)[:160]}")
                continue
            finally:
                savepoint.rollback()
                sent += 1
            orphans = _files(files, settings.upload_dir) - before
            if res.status_code < 400:  # what a success writes shows the recording works
                writes += bool(left or orphans)
            elif left or orphans:
                wrong.append(f"{case.method} {case.path} as {case.role}, {what}: "
                             f"{res.status_code} yet wrote {left} and left files "
                             f"{sorted(os.path.basename(p) for p in orphans)}")
            if res.status_code >= 500:
                wrong.append(f"{case.method} {case.path} as {case.role}, {what}: "
                             f"{res.status_code} {res.text[:160]}")
            elif res.status_code >= 400 and not res.headers.get("content-type", "").startswith(
                    ("application/json", "application/problem+json", "text/xml",
                     "application/xml")):
                wrong.append(f"{case.method} {case.path} as {case.role}, {what}: "
                             f"{res.status_code} without a reason")
    print(f"\nHOSTILE routes={len(done)} requests={sent} successes_that_wrote={writes} "
          f"wrong={len(wrong)}")
    assert len(done) > 100
    assert writes > 100  # the recording of writes works
    assert wrong == [], "\n".join(wrong[:80])


def test_a_nul_character_is_refused_naming_its_field_before_anything_is_written(
        client: TestClient, conn: Connection) -> None:
    world = build(conn)
    citizen = world.actors["citizen"].headers()
    before = conn.exec_driver_sql("SELECT count(*) FROM dossier").scalar_one()
    res = client.post("/api/dossiers", headers=citizen, json={
        "procedure_id": PERMIT, "parcel_key": world.parcels[MY_WARD],
        "applicant": {"full_name": "Người\x00Nộp"}})
    assert res.status_code == 422, res.text
    assert res.json()["field"] == "applicant.full_name"
    assert "NUL" in res.json()["detail"]
    res = client.get("/api/feedback/nearby?category=roads%00&lon=106.7&lat=10.7")
    assert (res.status_code, res.json()["field"]) == (422, "category")
    res = client.post("/open311/v2/requests.json", data={
        "api_key": world.open311_key, "service_code": "roads", "lat": "10.7335",
        "long": "106.7195", "description": "Ổ\x00gà"})
    assert res.status_code == 422, res.text
    assert "description" in res.text
    assert conn.exec_driver_sql("SELECT count(*) FROM dossier").scalar_one() == before
