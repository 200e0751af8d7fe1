"""Submitting a dossier the way a phone on a bad network does: ETags and If-Match, retries
with an Idempotency-Key, many at once; refusals that name what is missing."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from accounts.service import AccountService
from core.idempotency import forget_old
from core.notify import OutboxNotifier
from core.settings import Settings
from gisapi.main import create_app
from tests.accounts.world import MY_WARD, PERMIT, World, attach_all, build


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _draft(world: World, **applicant: Any) -> dict[str, Any]:
    return {"procedure_id": PERMIT, "parcel_key": world.parcels[MY_WARD],
            "applicant": {"full_name": "Nguyễn Văn An", "id_number": "079123456789",
                          **applicant},
            "answers": {"floors": 3, "height_m": 12, "footprint_m2": 60, "floor_area_m2": 180}}


def test_a_retry_with_the_same_key_gets_the_first_answer(client: TestClient,
                                                         world: World, conn: Connection) -> None:
    citizen = {**world.actors["citizen"].headers(), "Idempotency-Key": secrets.token_hex(16)}
    first = client.post("/api/dossiers", headers=citizen, json=_draft(world))
    again = client.post("/api/dossiers", headers=citizen, json=_draft(world))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    drafts = conn.exec_driver_sql("SELECT count(*) FROM dossier WHERE owner_id = %(o)s AND "
                                  "applicant->>'full_name' = 'Nguyễn Văn An'",
                                  {"o": world.actors["citizen"].person_id}).scalar_one()
    assert drafts == 1
    other = client.post("/api/dossiers", headers=citizen, json=_draft(world, full_name="Khác"))
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    bad = client.post("/api/dossiers", headers={**citizen, "Idempotency-Key": "short"},
                      json=_draft(world))
    assert bad.status_code == 422
    # Another citizen's key is theirs: the same string makes their own draft.
    mine = {**world.actors["citizen2"].headers(), "Idempotency-Key": citizen["Idempotency-Key"]}
    assert client.post("/api/dossiers", headers=mine, json=_draft(world)).json()["id"] != \
        first.json()["id"]


def test_submit_takes_if_match_and_answers_the_new_etag(client: TestClient, world: World,
                                                        conn: Connection) -> None:
    citizen = world.actors["citizen"].headers()
    draft = client.post("/api/dossiers", headers=citizen, json=_draft(world))
    attach_all(conn, draft.json()["id"])
    url = f"/api/dossiers/{draft.json()['id']}"
    read = client.get(url, headers=citizen)
    assert read.headers["etag"] == draft.headers["etag"]
    changed = client.patch(url, headers={**citizen, "If-Match": read.headers["etag"]},
                           json={"answers": {**_draft(world)["answers"], "floors": 4}})
    assert changed.status_code == 200
    assert changed.headers["etag"] != read.headers["etag"]  # a change is a new version
    stale = client.post(f"{url}/submit", headers={**citizen, "If-Match": '"dossier-1-v99"'})
    assert stale.status_code == 412
    assert stale.json()["field"] == "If-Match"
    before_change = client.post(f"{url}/submit", headers={**citizen,
                                                          "If-Match": read.headers["etag"]})
    assert before_change.status_code == 412  # what it read has changed since
    again_change = client.patch(url, headers={**citizen, "If-Match": read.headers["etag"]},
                                json={"answers": {"floors": 5}})
    assert again_change.status_code == 412  # another tab's save is not overwritten
    done = client.post(f"{url}/submit", headers={**citizen,
                                                 "If-Match": changed.headers["etag"],
                                                 "Idempotency-Key": secrets.token_hex(16)})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "awaiting_receipt"
    assert done.headers["etag"] != changed.headers["etag"]
    again = client.post(f"{url}/submit", headers=citizen)
    assert again.status_code == 409
    assert "withdraw" in again.json()["detail"]  # what it allows instead


def test_a_refused_submission_names_each_failing_guard(client: TestClient, world: World,
                                                       conn: Connection) -> None:
    citizen = world.actors["citizen"].headers()
    body = _draft(world)
    body["applicant"] = {"full_name": "Nguyễn Văn An"}  # no phone, no ID number
    draft = client.post("/api/dossiers", headers=citizen, json=body).json()
    attach_all(conn, draft["id"])
    refused = client.post(f"/api/dossiers/{draft['id']}/submit", headers=citizen)
    assert refused.status_code == 409
    assert [g["guard"] for g in refused.json()["guards"]] == ["applicant_reachable"]
    # The form and the documents are guards too: each failing one is named.
    body["applicant"]["phone"] = "0930000777"
    body["answers"] = {"floors": 3}
    other = client.post("/api/dossiers", headers=citizen, json=body).json()
    refused = client.post(f"/api/dossiers/{other['id']}/submit", headers=citizen)
    assert refused.status_code == 409
    guards = {g["guard"]: g["reason"] for g in refused.json()["guards"]}
    assert set(guards) == {"answers_complete", "documents_attached"}
    assert "height_m" in guards["answers_complete"]
    assert "land_certificate" in guards["documents_attached"]
    assert "drawings" in guards["documents_attached"]
    assert client.get(f"/api/dossiers/{draft['id']}", headers=citizen).json()["status"] == \
        "draft"


@pytest.fixture
def committing(engine: Engine) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    """An app with its own transactions, and a citizen of its own (committed) signed in."""
    phone = "+8493" + "".join(secrets.choice("0123456789") for _ in range(7))
    with engine.begin() as db:
        person_id = int(db.exec_driver_sql(
            "INSERT INTO person (phone, password_hash, display_name, verified_at) "
            "VALUES (%(p)s, 'x', 'Người Thử', now()) RETURNING id", {"p": phone}).scalar_one())
        db.exec_driver_sql("INSERT INTO role_grant (person_id, role) VALUES (%(p)s, 'citizen')",
                           {"p": person_id})
        session = AccountService(db, OutboxNotifier(db), b"k" * 32)._new_session(person_id)
        parcel = str(db.exec_driver_sql(
            "SELECT p.parcel_key FROM parcel p JOIN admin_unit w ON w.id = p.ward_id "
            "WHERE w.code = %(w)s LIMIT 1", {"w": MY_WARD}).scalar_one())
    headers = {"Cookie": f"civicmap_session={session.token}",
               "X-CSRF-Token": session.csrf_token}
    app = create_app(Settings(tile_cache_size=0), engine=engine)
    with TestClient(app) as client:
        yield client, headers, parcel


def test_ten_at_once_with_one_key_make_one_dossier(
        committing: tuple[TestClient, dict[str, str], str], engine: Engine) -> None:
    client, citizen, parcel = committing
    name = f"Đồng Thời {secrets.token_hex(4)}"
    headers = {**citizen, "Idempotency-Key": secrets.token_hex(16)}
    body = {"procedure_id": PERMIT, "parcel_key": parcel,
            "applicant": {"full_name": name, "phone": "0930000999"}}
    answers: list[Any] = []
    start = threading.Barrier(10)

    def send() -> None:
        start.wait()
        answers.append(client.post("/api/dossiers", headers=headers, json=body))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [201] * 10
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 9
    with engine.connect() as db:
        made = db.exec_driver_sql("SELECT count(*) FROM dossier WHERE applicant->>'full_name' "
                                  "= %(n)s", {"n": name}).scalar_one()
    assert made == 1


def test_kept_answers_are_forgotten_after_a_day(conn: Connection) -> None:
    for key, age in (("old-key-123", "2 days"), ("new-key-123", "1 hour")):
        conn.exec_driver_sql(
            "INSERT INTO idempotency_key (scope, key, fingerprint, created_at) VALUES "
            "('t', %(k)s, 'f', now() - %(a)s::interval)", {"k": key, "a": age})
    assert forget_old(conn) >= 1
    kept = conn.exec_driver_sql("SELECT key FROM idempotency_key WHERE scope = 't'").scalars()
    assert list(kept) == ["new-key-123"]


def test_ten_submissions_at_once_with_one_key_give_one_code(
        committing: tuple[TestClient, dict[str, str], str], engine: Engine) -> None:
    client, citizen, parcel = committing
    draft = client.post("/api/dossiers", headers=citizen, json={
        "procedure_id": PERMIT, "parcel_key": parcel,
        "applicant": {"full_name": "Nộp Đồng Thời", "phone": "0930000888"},
        "answers": {"floors": 3, "height_m": 12, "footprint_m2": 60, "floor_area_m2": 180}})
    assert draft.status_code == 201, draft.text
    dossier = draft.json()["id"]
    with engine.begin() as db:
        attach_all(db, dossier)
    headers = {**citizen, "Idempotency-Key": secrets.token_hex(16)}
    answers: list[Any] = []
    start = threading.Barrier(10)

    def send() -> None:
        start.wait()
        answers.append(client.post(f"/api/dossiers/{dossier}/submit", headers=headers))

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 10
    assert len({a.json()["code"] for a in answers}) == 1
    with engine.connect() as db:
        moves = db.exec_driver_sql("SELECT count(*) FROM dossier_event WHERE dossier_id = %(d)s "
                                   "AND action = 'submit'", {"d": dossier}).scalar_one()
    assert moves == 1
