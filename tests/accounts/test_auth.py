"""Sign-up with a one-time code through the outbox, sign-in with a cookie, CSRF, sign-out."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from tests.accounts.world import outbox_code

PHONE = "0901 234 567"
PASSWORD = "mật-khẩu-dài-đủ"


def _sign_up(client: TestClient, identifier: str = PHONE, **extra: object) -> None:
    res = client.post("/api/auth/signup", json={
        "identifier": identifier, "password": PASSWORD, "display_name": "Nguyễn Văn An",
        "accept_purpose": True, **extra})
    assert res.status_code == 202, res.text


def _code(conn: Connection, recipient: str) -> str:
    return outbox_code(conn, recipient)


def _verified(client: TestClient, conn: Connection) -> None:
    _sign_up(client)
    res = client.post("/api/auth/verify",
                      json={"identifier": PHONE, "code": _code(conn, "+84901234567")})
    assert res.status_code == 204


def test_sign_up_sends_a_code_by_sms_and_stores_no_clear_secret(
    client: TestClient, conn: Connection
) -> None:
    _sign_up(client)
    code = _code(conn, "+84901234567")
    stored = conn.exec_driver_sql(
        "SELECT p.password_hash, c.code_hash FROM person p JOIN one_time_code c "
        "ON c.person_id = p.id WHERE p.phone = '+84901234567'").one()
    assert stored.password_hash.startswith("$argon2")
    assert PASSWORD not in stored.password_hash
    assert code not in stored.code_hash


def test_unverified_accounts_cannot_sign_in(client: TestClient, conn: Connection) -> None:
    _sign_up(client)
    res = client.post("/api/auth/signin", json={"identifier": PHONE, "password": PASSWORD})
    assert res.status_code == 403


def test_sign_in_sets_a_safe_cookie_and_me_answers(client: TestClient, conn: Connection) -> None:
    _verified(client, conn)
    res = client.post("/api/auth/signin",
                      json={"identifier": "+84901234567", "password": PASSWORD})
    assert res.status_code == 200
    cookie = res.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    me = client.get("/api/me").json()
    assert me["display_name"] == "Nguyễn Văn An"
    assert me["roles"] == ["citizen"]
    assert "password" not in str(me)


def test_wrong_password_and_unknown_person_get_the_same_answer(
    client: TestClient, conn: Connection
) -> None:
    _verified(client, conn)
    before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM audit_event").scalar_one()
    wrong = client.post("/api/auth/signin", json={"identifier": PHONE, "password": "nope"})
    unknown = client.post("/api/auth/signin",
                          json={"identifier": "0999999999", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    kinds = conn.exec_driver_sql("SELECT kind FROM audit_event WHERE id > %(b)s",
                                 {"b": before}).scalars().all()
    assert kinds.count("sign_in_failed") == 2


def test_sign_out_needs_the_csrf_token_and_ends_the_session(
    client: TestClient, conn: Connection
) -> None:
    _verified(client, conn)
    csrf = client.post("/api/auth/signin",
                       json={"identifier": PHONE, "password": PASSWORD}).json()["csrf_token"]
    old_cookie = client.cookies.get("civicmap_session")
    assert client.post("/api/auth/signout").status_code == 403
    assert client.post("/api/auth/signout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.get("/api/me").status_code == 200
    assert client.post("/api/auth/signout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.set("civicmap_session", old_cookie)  # replaying the old cookie
    assert client.get("/api/me").status_code == 401


def test_each_sign_in_gets_a_new_session(client: TestClient, conn: Connection) -> None:
    _verified(client, conn)
    client.post("/api/auth/signin", json={"identifier": PHONE, "password": PASSWORD})
    first = client.cookies.get("civicmap_session")
    client.post("/api/auth/signin", json={"identifier": PHONE, "password": PASSWORD})
    assert client.cookies.get("civicmap_session") != first


def test_codes_give_out_after_five_wrong_tries(client: TestClient, conn: Connection) -> None:
    _sign_up(client)
    good = _code(conn, "+84901234567")
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post("/api/auth/verify",
                           json={"identifier": PHONE, "code": bad}).status_code == 422
    res = client.post("/api/auth/verify", json={"identifier": PHONE, "code": good})
    assert res.status_code == 422
    assert "new one" in res.json()["detail"]


@pytest.mark.parametrize("field", ["role", "owner_id", "status", "verified_at"])
def test_a_body_cannot_set_privileged_fields(client: TestClient, field: str) -> None:
    res = client.post("/api/auth/signup", json={
        "identifier": "an@example.vn", "password": PASSWORD, "display_name": "An",
        "accept_purpose": True, field: "administrator"})
    assert res.status_code == 422
    assert res.json()["detail"][0]["loc"][-1] == field


def test_duplicate_and_malformed_identifiers(client: TestClient, conn: Connection) -> None:
    _sign_up(client, "An@Example.vn")
    first = _code(conn, "an@example.vn")
    # Not verified yet: signing up again sends a new code (the old one is superseded).
    again = client.post("/api/auth/signup", json={
        "identifier": "an@example.vn", "password": PASSWORD, "display_name": "An",
        "accept_purpose": True})
    assert again.status_code == 202
    assert client.post("/api/auth/verify", json={
        "identifier": "an@example.vn", "code": _code(conn, "an@example.vn")}).status_code == 204
    # Verified: the same 202 as for a new account (nobody learns who has one), and the owner
    # is told by e-mail instead of getting a code.
    third = client.post("/api/auth/signup", json={
        "identifier": "an@example.vn", "password": "another-password-x", "display_name": "X",
        "accept_purpose": True})
    assert third.status_code == 202
    assert third.json() == again.json()
    notice = conn.exec_driver_sql(
        "SELECT body FROM outbox_message WHERE recipient = 'an@example.vn' "
        "ORDER BY id DESC LIMIT 1").scalar_one()
    assert "đã có tài khoản" in notice
    assert first not in notice
    signed = client.post("/api/auth/signin", json={"identifier": "an@example.vn",
                                                   "password": PASSWORD})
    assert signed.status_code == 200  # the password was not replaced
    bad = client.post("/api/auth/signup", json={
        "identifier": "12345", "password": PASSWORD, "display_name": "An",
        "accept_purpose": True})
    assert bad.status_code == 422
    assert bad.json()["field"] == "identifier"


def test_the_audit_log_is_append_only(conn: Connection) -> None:
    conn.exec_driver_sql("INSERT INTO audit_event (kind) VALUES ('test')")
    with pytest.raises(Exception, match="append-only"):  # noqa: PT011
        with conn.begin_nested():
            conn.exec_driver_sql("DELETE FROM audit_event")


def test_staff_accounts_are_created_verified_with_their_scope(
    client: TestClient, conn: Connection
) -> None:
    from accounts.service import AccountService, GrantSpec
    from core.errors import InvalidInputError
    from core.notify import OutboxNotifier

    service = AccountService(conn, OutboxNotifier(conn), b"k" * 32)
    person_id, password = service.create_staff(
        "0912 000 111", "Lê Văn Cán Bộ",
        GrantSpec("officer", "urban-management", ("27487", "27484")))
    assert password
    grant = conn.exec_driver_sql(
        "SELECT role, department, wards FROM role_grant WHERE person_id = %(p)s",
        {"p": person_id}).one()
    assert tuple(grant) == ("officer", "urban-management", ["27487", "27484"])
    res = client.post("/api/auth/signin", json={"identifier": "0912000111", "password": password})
    assert res.status_code == 200
    assert res.json()["roles"] == ["officer"]
    with pytest.raises(InvalidInputError, match="department"):
        service.create_staff("0912000222", "X", GrantSpec("officer", None, ()))
    with pytest.raises(InvalidInputError, match="ward"):
        service.create_staff("0912000222", "X", GrantSpec("officer", "economy", ("99999",)))
    with pytest.raises(InvalidInputError, match="role"):
        service.create_staff("0912000333", "X", GrantSpec("citizen"))
    # No self sign-up as staff: the sign-up body has no role to give.
    res = client.post("/api/auth/signup", json={
        "identifier": "0912000444", "password": PASSWORD, "display_name": "X",
        "accept_purpose": True, "role": "officer"})
    assert res.status_code == 422
