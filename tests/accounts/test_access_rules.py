"""Sessions, CSRF, tokens, passwords, personal data, audit and dossier scopes, one by one."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.accounts.world import (
    MY_WARD,
    PASSWORD,
    PERMIT,
    World,
    attach_all,
    build,
    outbox_code,
)

NEW_PASSWORD = "một-mật-khẩu-mới-dài"


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _as(world: World, name: str, csrf: bool = True) -> dict[str, str]:
    headers = world.actors[name].headers()
    if not csrf:
        headers.pop("X-CSRF-Token", None)
    return headers


def _code(conn: Connection, recipient: str) -> str:
    return outbox_code(conn, recipient)


def _cookie(res: object) -> str:
    header = res.headers["set-cookie"]  # type: ignore[attr-defined]
    found = re.search(r"civicmap_session=([^;]+)", header)
    assert found
    return found[1]


def _kinds(conn: Connection, person_id: int | None) -> list[str]:
    return [r[0] for r in conn.exec_driver_sql(
        "SELECT kind FROM audit_event WHERE person_id IS NOT DISTINCT FROM %(p)s ORDER BY id",
        {"p": person_id})]


# -- sessions ----------------------------------------------------------------------------------

def test_sign_in_rotates_the_session_it_was_given(client: TestClient, world: World) -> None:
    citizen = world.actors["citizen"]
    res = client.post("/api/auth/signin", headers={"Cookie": f"civicmap_session={citizen.cookie}"},
                      json={"identifier": citizen.phone, "password": PASSWORD})
    assert res.status_code == 200
    fresh = _cookie(res)
    assert fresh != citizen.cookie
    client.cookies.clear()
    old = client.get("/api/me", headers={"Cookie": f"civicmap_session={citizen.cookie}"})
    assert old.status_code == 401  # the session carried in before sign-in is over
    assert client.get("/api/me", headers={"Cookie": f"civicmap_session={fresh}"}).status_code == 200


def test_a_session_id_chosen_by_an_attacker_is_never_adopted(client: TestClient,
                                                             world: World) -> None:
    citizen = world.actors["citizen"]
    planted = "attacker-knows-this-value"
    res = client.post("/api/auth/signin", headers={"Cookie": f"civicmap_session={planted}"},
                      json={"identifier": citizen.phone, "password": PASSWORD})
    assert res.status_code == 200
    assert _cookie(res) != planted
    client.cookies.clear()
    res = client.get("/api/me", headers={"Cookie": f"civicmap_session={planted}"})
    assert res.status_code == 401


def test_cookie_writes_need_the_csrf_token(client: TestClient, world: World) -> None:
    missing = client.patch("/api/me", json={"lang": "en"}, headers=_as(world, "citizen", False))
    wrong = client.patch("/api/me", json={"lang": "en"},
                         headers={**_as(world, "citizen"), "X-CSRF-Token": "nope"})
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert missing.json()["field"] == "X-CSRF-Token"
    res = client.patch("/api/me", json={"lang": "en"}, headers=_as(world, "citizen"))
    assert res.status_code == 200
    assert res.json()["lang"] == "en"
    # Reads need no token.
    assert client.get("/api/me", headers=_as(world, "citizen", False)).status_code == 200


def test_sign_out_everywhere_ends_every_session_and_token(client: TestClient, conn: Connection,
                                                          world: World) -> None:
    officer = world.actors["officer"]
    from accounts.service import AccountService
    from core.notify import OutboxNotifier

    other = AccountService(conn, OutboxNotifier(conn), b"k" * 32)._new_session(
        int(officer.person_id or 0))
    res = client.post("/api/auth/signout?everywhere=true", headers=_as(world, "officer"))
    assert res.status_code == 204
    client.cookies.clear()
    for headers in ({"Cookie": f"civicmap_session={other.token}"}, _as(world, "officer"),
                    _as(world, "officer_token")):
        assert client.get("/api/dossiers", headers=headers).status_code == 401


# -- passwords ---------------------------------------------------------------------------------

def test_password_change_ends_the_other_sessions_and_keeps_this_one(
    client: TestClient, world: World
) -> None:
    officer = world.actors["officer"]
    wrong = client.post("/api/me/password", headers=_as(world, "officer"),
                        json={"current_password": "not it", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 401
    assert wrong.json()["field"] == "current_password"
    res = client.post("/api/me/password", headers=_as(world, "officer"),
                      json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert res.status_code == 200
    fresh, csrf = _cookie(res), res.json()["csrf_token"]
    client.cookies.clear()
    assert client.get("/api/me", headers=_as(world, "officer")).status_code == 401
    assert client.get("/api/dossiers", headers=_as(world, "officer_token")).status_code == 401
    mine = {"Cookie": f"civicmap_session={fresh}", "X-CSRF-Token": csrf}
    assert client.get("/api/me", headers=mine).status_code == 200
    res = client.post("/api/auth/signin",
                      json={"identifier": officer.phone, "password": NEW_PASSWORD})
    assert res.status_code == 200


def test_password_reset_by_code(client: TestClient, conn: Connection, world: World) -> None:
    citizen = world.actors["citizen"]
    before = conn.exec_driver_sql("SELECT count(*) FROM outbox_message").scalar_one()
    unknown = client.post("/api/auth/password/forgot", json={"identifier": "0939876543"})
    assert unknown.status_code == 202
    assert conn.exec_driver_sql("SELECT count(*) FROM outbox_message").scalar_one() == before
    assert client.post("/api/auth/password/forgot",
                       json={"identifier": citizen.phone}).status_code == 202
    code = _code(conn, citizen.phone)
    bad = client.post("/api/auth/password/reset", json={
        "identifier": citizen.phone, "code": f"{(int(code) + 1) % 10**6:06d}",
        "new_password": NEW_PASSWORD})
    assert bad.status_code == 422
    res = client.post("/api/auth/password/reset", json={
        "identifier": citizen.phone, "code": code, "new_password": NEW_PASSWORD})
    assert res.status_code == 204
    assert client.get("/api/me", headers=_as(world, "citizen")).status_code == 401
    assert client.post("/api/auth/signin", json={
        "identifier": citizen.phone, "password": PASSWORD}).status_code == 401
    assert client.post("/api/auth/signin", json={
        "identifier": citizen.phone, "password": NEW_PASSWORD}).status_code == 200
    again = client.post("/api/auth/password/reset", json={
        "identifier": citizen.phone, "code": code, "new_password": PASSWORD})
    assert again.status_code == 422  # a code is used once


# -- bodies cannot grant themselves anything ---------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/dossiers", {"owner_id": 1}),
    ("POST", "/api/dossiers", {"status": "result_ready"}),
    ("POST", "/api/dossiers", {"department": "economy"}),
    ("PATCH", "/api/dossiers/{draft}", {"status": "received"}),
    ("PATCH", "/api/dossiers/{draft}", {"owner_id": 1}),
    ("PATCH", "/api/me", {"roles": ["administrator"]}),
    ("PATCH", "/api/me", {"role": "administrator"}),
])
def test_privileged_fields_in_a_body_are_refused(client: TestClient, world: World, method: str,
                                                 path: str, body: dict[str, object]) -> None:
    base = {"procedure_id": PERMIT, "parcel_key": world.parcels[MY_WARD],
            "applicant": {"full_name": "A"}} if method == "POST" else {}
    url = path.replace("{draft}", str(world.dossiers["c1_draft"].id))
    res = client.request(method, url, json={**base, **body}, headers=_as(world, "citizen"))
    assert res.status_code == 422, res.text
    assert list(body)[0] in res.text


# -- tokens ------------------------------------------------------------------------------------

def test_tokens_are_scoped_revocable_and_issued_from_a_session_only(
    client: TestClient, world: World
) -> None:
    officer = _as(world, "officer")
    res = client.post("/api/tokens", headers=officer,
                      json={"name": "one-stop", "scopes": ["dossier.read"]})
    assert res.status_code == 201
    token_id, secret = res.json()["id"], res.json()["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    listed = client.get("/api/dossiers", headers=bearer)
    assert listed.status_code == 200
    assert {d["id"] for d in listed.json()} == {world.dossiers["c1_sub"].id}
    assert client.get("/api/me", headers=bearer).status_code == 403  # not in its scopes
    assert client.post("/api/tokens", headers=bearer, json={
        "name": "x", "scopes": ["dossier.read"]}).status_code == 403
    assert client.post("/api/tokens", headers=officer, json={
        "name": "x", "scopes": ["audit.read"]}).status_code == 403  # beyond the officer's roles
    assert client.post("/api/tokens", headers=officer, json={
        "name": "x", "scopes": ["everything"]}).status_code == 422
    assert secret not in client.get("/api/tokens", headers=officer).text
    assert client.delete(f"/api/tokens/{token_id}", headers=officer).status_code == 204
    assert client.get("/api/dossiers", headers=bearer).status_code == 401
    garbage = client.get("/api/dossiers", headers={"Authorization": "Bearer cm_nothing"})
    assert garbage.status_code == 401
    assert garbage.json()["field"] == "Authorization"


# -- dossiers ----------------------------------------------------------------------------------

def test_a_dossier_from_draft_to_withdrawn(client: TestClient, conn: Connection,
                                           world: World) -> None:
    citizen, officer = _as(world, "citizen"), _as(world, "officer")
    res = client.post("/api/dossiers", headers=citizen, json={
        "procedure_id": PERMIT, "parcel_key": world.parcels[MY_WARD],
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": "079123456789"},
        "answers": {"floors": 3, "height_m": 11.5}})
    assert res.status_code == 201, res.text
    draft = res.json()
    attach_all(conn, draft["id"])
    assert (draft["status"], draft["code"], draft["ward_code"], draft["department"]) == (
        "draft", None, MY_WARD, "urban-management")
    url = f"/api/dossiers/{draft['id']}"
    assert client.get(url, headers=officer).status_code == 403  # drafts are the applicant's
    complete = {"floors": 4, "height_m": 14, "footprint_m2": 60, "floor_area_m2": 200}
    assert client.patch(url, headers=citizen, json={"answers": complete}).json()[
        "answers"] == complete
    submitted = client.post(f"{url}/submit", headers=citizen)
    assert submitted.status_code == 200
    code = submitted.json()["code"]
    assert re.fullmatch(r"000\.00\.01\.H29-\d{6}-\d{4}", code)
    assert client.get(url, headers=officer).status_code == 200
    assert client.get(url, headers=_as(world, "officer2")).status_code == 403
    assert client.get(url, headers=_as(world, "citizen2")).status_code == 404
    assert client.patch(url, headers=citizen, json={"answers": {}}).status_code == 409
    assert client.post(f"{url}/submit", headers=citizen).status_code == 409
    public = client.get(f"/api/dossiers/lookup/{code}")
    assert public.status_code == 200
    assert set(public.json()) == {"code", "procedure_name_vi", "procedure_name_en", "status",
                                  "submitted_at", "updated_at", "received_at", "due_on",
                                  "returned_at", "result_sha256", "result_signed_at", "events"}
    assert public.json()["result_sha256"] is None  # no result yet
    # Each public move: what and when, never who or why.
    assert [set(e) for e in public.json()["events"]] == [{"action", "to_status", "at"}]
    assert "Nguyễn" not in public.text
    assert "079123456789" not in public.text
    assert client.post(f"{url}/withdraw", headers=citizen).json()["status"] == "withdrawn"
    events = conn.exec_driver_sql(
        "SELECT action, from_status, to_status FROM dossier_event WHERE dossier_id = %(i)s "
        "ORDER BY id", {"i": draft["id"]}).all()
    assert [tuple(e) for e in events] == [("create", None, "draft"),
                                          ("submit", "draft", "awaiting_receipt"),
                                          ("withdraw", "awaiting_receipt", "withdrawn")]
    with pytest.raises(Exception, match="append-only"):
        conn.exec_driver_sql("UPDATE dossier_event SET action = 'x'")


def test_bad_dossier_input_names_the_field(client: TestClient, world: World) -> None:
    citizen = _as(world, "citizen")
    base = {"procedure_id": PERMIT, "parcel_key": world.parcels[MY_WARD],
            "applicant": {"full_name": "A"}}
    for change, field in [({"procedure_id": "nope"}, "procedure_id"),
                          ({"parcel_key": "999990000001"}, "parcel_key")]:
        res = client.post("/api/dossiers", headers=citizen, json={**base, **change})
        assert res.status_code == 422
        assert res.json()["field"] == field
    assert client.get("/api/dossiers/lookup/000.00.01.H29-260101-9999").status_code == 404


def test_lists_hold_only_what_each_role_reaches(client: TestClient, world: World) -> None:
    def ids(name: str) -> set[str]:
        res = client.get("/api/dossiers?limit=200", headers=_as(world, name))
        assert res.status_code == 200
        by_id = {d.id: d.key for d in world.dossiers.values()}
        return {by_id[d["id"]] for d in res.json() if d["id"] in by_id}

    assert ids("citizen") == {"c1_draft", "c1_sub"}
    assert ids("officer") == {"c1_sub"}
    assert ids("leader") == {"c1_sub", "c2_urban_other_ward"}
    assert ids("officer2") == {"c2_sub"}
    assert client.get("/api/dossiers", headers=_as(world, "planner")).status_code == 403


# -- administration and audit ------------------------------------------------------------------

def test_roles_change_by_administrators_only_and_are_audited(
    client: TestClient, conn: Connection, world: World
) -> None:
    admin, target = world.actors["administrator"], world.actors["citizen2"]
    url = f"/api/people/{target.person_id}/roles"
    body = {"grants": [{"role": "citizen"},
                       {"role": "officer", "department": "economy", "wards": [MY_WARD]}]}
    assert client.put(url, json=body, headers=_as(world, "leader")).status_code == 403
    assert client.put(url, json=body, headers=_as(world, "administrator")).status_code == 204
    assert client.get("/api/me", headers=_as(world, "citizen2")).json()["roles"] == [
        "citizen", "officer"]
    # At once: the new officer reaches the economy dossier of their new ward.
    listed = client.get("/api/dossiers", headers=_as(world, "citizen2")).json()
    assert world.dossiers["c2_economy_my_ward"].id in {d["id"] for d in listed}
    own = client.put(f"/api/people/{admin.person_id}/roles", headers=_as(world, "administrator"),
                     json={"grants": [{"role": "planner"}]})
    assert own.status_code == 409
    log = client.get("/api/audit?kind=role_change", headers=_as(world, "administrator")).json()
    assert log[0]["detail"]["person"] == target.person_id
    assert log[0]["detail"]["after"] == ["citizen", "officer"]
    assert "staff_write" in _kinds(conn, admin.person_id)
    assert client.get("/api/audit", headers=_as(world, "officer")).status_code == 403


def test_denials_are_audited(client: TestClient, conn: Connection, world: World) -> None:
    citizen = world.actors["citizen"]
    client.get(f"/api/dossiers/{world.dossiers['c2_sub'].id}", headers=_as(world, "citizen"))
    client.get("/api/staff", headers=_as(world, "citizen"))
    client.get("/api/dossiers", headers={"Authorization": "Bearer cm_forged"})
    denied = conn.exec_driver_sql(
        "SELECT person_id, detail->>'status' FROM audit_event WHERE kind = 'access_denied' "
        "ORDER BY id").all()
    assert [(r[0], r[1]) for r in denied][-3:] == [
        (citizen.person_id, "404"), (citizen.person_id, "403"), (None, "401")]


def test_staff_are_created_by_administrators_with_a_code_not_a_password(
    client: TestClient, conn: Connection, world: World
) -> None:
    body = {"identifier": "can.bo@quan7.example.vn", "display_name": "Phạm Thị Cán Bộ",
            "grant": {"role": "officer", "department": "urban-management", "wards": [MY_WARD]}}
    assert client.post("/api/staff", json=body, headers=_as(world, "leader")).status_code == 403
    res = client.post("/api/staff", json=body, headers=_as(world, "administrator"))
    assert res.status_code == 201
    assert set(res.json()) == {"id"}
    code = _code(conn, "can.bo@quan7.example.vn")
    assert client.post("/api/auth/password/reset", json={
        "identifier": body["identifier"], "code": code,
        "new_password": NEW_PASSWORD}).status_code == 204
    signed = client.post("/api/auth/signin", json={
        "identifier": body["identifier"], "password": NEW_PASSWORD})
    assert signed.json()["roles"] == ["officer"]
    bad = client.post("/api/staff", headers=_as(world, "administrator"), json={
        **body, "identifier": "0931555555", "grant": {"role": "officer", "department": "x"}})
    assert bad.status_code == 422
    assert bad.json()["field"] == "wards"


# -- personal data -----------------------------------------------------------------------------

def test_export_holds_my_data_and_no_secret(client: TestClient, world: World) -> None:
    res = client.get("/api/me/export", headers=_as(world, "citizen"))
    assert res.status_code == 200
    assert res.headers["cache-control"] == "no-store"
    data = res.json()
    assert data["person"]["phone"] == world.actors["citizen"].phone
    assert {d["id"] for d in data["dossiers"]} == {world.dossiers["c1_draft"].id,
                                                   world.dossiers["c1_sub"].id}
    assert "argon2" not in res.text
    assert "token_hash" not in res.text
    assert "Đương Sự c2" not in res.text  # nobody else's data
    assert data["purpose"]


def test_deletion_anonymises_and_keeps_the_dossiers(client: TestClient, conn: Connection,
                                                    world: World) -> None:
    citizen = world.actors["citizen"]
    assert client.post("/api/me/deletion", headers=_as(world, "citizen"),
                       json={"password": "wrong"}).status_code == 401
    res = client.post("/api/me/deletion", headers=_as(world, "citizen"),
                      json={"password": PASSWORD})
    assert res.status_code == 204
    row = conn.exec_driver_sql("SELECT phone, email, display_name, password_hash, deleted_at "
                               "FROM person WHERE id = %(p)s", {"p": citizen.person_id}).one()
    assert (row.phone, row.email, row.password_hash) == (None, None, "!")
    assert "Người Thử" not in row.display_name
    assert row.deleted_at is not None
    kept = conn.exec_driver_sql("SELECT count(*) FROM dossier WHERE owner_id = %(p)s",
                                {"p": citizen.person_id}).scalar_one()
    assert kept == 2
    client.cookies.clear()
    assert client.get("/api/me", headers=_as(world, "citizen")).status_code == 401
    assert client.post("/api/auth/signin", json={
        "identifier": citizen.phone, "password": PASSWORD}).status_code == 401
    # The phone number is free again for a new account.
    assert client.post("/api/auth/signup", json={
        "identifier": citizen.phone, "password": PASSWORD, "display_name": "Mới",
        "accept_purpose": True}).status_code == 202


def test_staff_reads_are_not_written_down_as_writes(client: TestClient, conn: Connection,
                                                    world: World) -> None:
    officer = world.actors["officer"]
    before = _kinds(conn, officer.person_id).count("staff_write")
    assert client.get("/api/me", headers=_as(world, "officer")).status_code == 200
    assert client.get("/api/dossiers", headers=_as(world, "officer")).status_code == 200
    assert _kinds(conn, officer.person_id).count("staff_write") == before
    client.patch("/api/me", json={"lang": "en"}, headers=_as(world, "officer"))
    assert _kinds(conn, officer.person_id).count("staff_write") == before + 1
