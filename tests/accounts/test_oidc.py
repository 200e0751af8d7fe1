"""Sign-in through an OpenID Connect provider, with a local fake standing in for VNeID."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from accounts.oidc import ExternalClaims, ExternalSignInError, Providers

ISSUER = "https://vneid.fake.example"


class FakeProvider:
    """A provider that knows one code per started sign-in and checks what a real one checks:
    the redirect URI, the PKCE verifier against the challenge, and the nonce."""

    name = "vneid"
    issuer = ISSUER

    def __init__(self, claims: ExternalClaims) -> None:
        self.claims = claims
        self.started: dict[str, tuple[str, str, str]] = {}  # code -> (uri, nonce, challenge)

    def authorization_url(self, redirect_uri: str, state: str, nonce: str,
                          code_challenge: str) -> str:
        code = f"code-{len(self.started)}"
        self.started[code] = (redirect_uri, nonce, code_challenge)
        return f"{ISSUER}/authorize?state={state}&code_for_test={code}"

    def exchange(self, code: str, redirect_uri: str, code_verifier: str,
                 nonce: str) -> ExternalClaims:
        if code not in self.started:
            raise ExternalSignInError("unknown code", "code")
        uri, want_nonce, challenge = self.started.pop(code)
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        if uri != redirect_uri or nonce != want_nonce or digest.rstrip(b"=").decode() != challenge:
            raise ExternalSignInError("the token does not match the request", "code")
        return self.claims


@pytest.fixture
def fake(client: TestClient) -> FakeProvider:
    provider = FakeProvider(ExternalClaims(ISSUER, "vneid-0001", "Trần Văn Định", "+84935000001"))
    client.app.state.identity_providers = Providers([provider])  # type: ignore[attr-defined]
    return provider


def _start(client: TestClient, next_path: str = "/?parcel=1") -> tuple[str, str]:
    res = client.get(f"/api/auth/oidc/vneid/start?next={next_path}", follow_redirects=False)
    assert res.status_code == 302
    query = parse_qs(urlsplit(res.headers["location"]).query)
    return query["state"][0], query["code_for_test"][0]


def test_a_new_person_is_created_linked_and_signed_in(client: TestClient, conn: Connection,
                                                      fake: FakeProvider) -> None:
    state, code = _start(client)
    res = client.get(f"/api/auth/oidc/vneid/callback?code={code}&state={state}",
                     follow_redirects=False)
    assert res.status_code == 302
    assert res.headers["location"] == "/?parcel=1"
    me = client.get("/api/me").json()
    assert (me["display_name"], me["phone"], me["roles"]) == (
        "Trần Văn Định", "+84935000001", ["citizen"])
    # The second time the same person is found by (issuer, subject), not created again.
    client.cookies.clear()
    state, code = _start(client)
    client.get(f"/api/auth/oidc/vneid/callback?code={code}&state={state}",
               follow_redirects=False)
    assert client.get("/api/me").json()["id"] == me["id"]
    linked = conn.exec_driver_sql("SELECT count(*) FROM external_identity "
                                  "WHERE subject = 'vneid-0001'").scalar_one()
    assert linked == 1


def test_a_verified_phone_links_the_existing_account(client: TestClient, conn: Connection,
                                                     fake: FakeProvider) -> None:
    person_id = conn.exec_driver_sql(
        "INSERT INTO person (phone, password_hash, display_name, verified_at) VALUES "
        "('+84935000001', '!', 'Đã Có', now()) RETURNING id").scalar_one()
    state, code = _start(client)
    client.get(f"/api/auth/oidc/vneid/callback?code={code}&state={state}",
               follow_redirects=False)
    assert client.get("/api/me").json()["id"] == person_id


def test_state_must_come_back_to_the_browser_that_started(client: TestClient,
                                                          fake: FakeProvider) -> None:
    state, code = _start(client)
    wrong = client.get(f"/api/auth/oidc/vneid/callback?code={code}&state=forged",
                       follow_redirects=False)
    assert wrong.status_code == 400
    assert wrong.json()["field"] == "state"
    client.cookies.clear()  # another browser: no sealed state at all
    other = client.get(f"/api/auth/oidc/vneid/callback?code={code}&state={state}",
                       follow_redirects=False)
    assert other.status_code == 400
    assert client.get("/api/me").status_code == 401


def test_no_open_redirect_and_unknown_providers(client: TestClient, fake: FakeProvider) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        state, code = _start(client, target)
        res = client.get(f"/api/auth/oidc/vneid/callback?code={code}&state={state}",
                         follow_redirects=False)
        assert res.headers["location"] == "/"
    assert client.get("/api/auth/oidc/zalo/start").status_code == 404
