"""What must survive a refused request: counted attempts, audit events, rate-limit hits.

These tests use the app's own transactions (nothing rolled back for them), so each uses a phone
number of its own.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from core.settings import Settings
from gisapi.main import create_app

PASSWORD = "mật-khẩu-dài-đủ"


@pytest.fixture
def app_clients(engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    app = create_app(Settings(tile_cache_size=0), engine=engine)
    with TestClient(app, client=("10.1.1.1", 40000)) as here, \
            TestClient(app, client=("10.2.2.2", 40000)) as elsewhere:
        yield here, elsewhere


def _phone() -> str:
    return "09" + "".join(secrets.choice("0123456789") for _ in range(8))


def _code(engine: Engine, phone: str) -> str:
    with engine.connect() as conn:
        body = conn.exec_driver_sql(
            "SELECT body FROM outbox_message WHERE recipient = %(r)s ORDER BY id DESC LIMIT 1",
            {"r": "+84" + phone[1:]}).scalar_one()
    found = re.search(r"\b(\d{6})\b", body)
    assert found
    return found[1]


def _sign_up(client: TestClient, phone: str) -> None:
    res = client.post("/api/auth/signup", json={
        "identifier": phone, "password": PASSWORD, "display_name": "Trần Thị Bình",
        "accept_purpose": True})
    assert res.status_code == 202, res.text


def test_wrong_codes_are_counted_for_real(app_clients: tuple[TestClient, TestClient],
                                          engine: Engine) -> None:
    client, _ = app_clients
    phone = _phone()
    _sign_up(client, phone)
    good = _code(engine, phone)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post("/api/auth/verify",
                           json={"identifier": phone, "code": bad}).status_code == 422
    assert client.post("/api/auth/verify",
                       json={"identifier": phone, "code": good}).status_code == 422


def test_failed_sign_ins_are_limited_without_locking_the_owner_out(
    app_clients: tuple[TestClient, TestClient], engine: Engine
) -> None:
    attacker, owner = app_clients
    phone = _phone()
    _sign_up(owner, phone)
    assert owner.post("/api/auth/verify", json={"identifier": phone,
                                                "code": _code(engine, phone)}).status_code == 204
    for _ in range(5):
        res = attacker.post("/api/auth/signin", json={"identifier": phone, "password": "x"})
        assert res.status_code == 401
    blocked = attacker.post("/api/auth/signin", json={"identifier": phone, "password": PASSWORD})
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 900
    # The owner, from another address, signs in as usual.
    assert owner.post("/api/auth/signin",
                      json={"identifier": phone, "password": PASSWORD}).status_code == 200
    with engine.connect() as conn:
        failed = conn.exec_driver_sql(
            "SELECT count(*) FROM audit_event a JOIN person p ON p.id = a.person_id "
            "WHERE p.phone = %(p)s AND a.kind = 'sign_in_failed'",
            {"p": "+84" + phone[1:]}).scalar_one()
    assert failed == 5
