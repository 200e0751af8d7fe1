"""Web Push: a browser subscribes with the platform's VAPID key; a notice to its person is
queued per subscription and delivered, encrypted to the browser's keys (RFC 8291) and signed
(VAPID), to a local stand-in of a push service (the real ones are outside the machine), which
decrypts it; a subscription the service says is gone is revoked."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from accounts.push import PushSender, platform_key, public_key, queue_push
from core.notify import deliver
from core.workflow import driver
from tests.accounts.world import World, build


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StandIn(BaseHTTPRequestHandler):
    """A push service on the loopback: keeps what it is sent; /gone answers 410."""

    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        StandIn.received.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                 body))
        self.send_response(410 if self.path.startswith("/gone") else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def push_service() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def test_a_notice_reaches_the_browser_encrypted_and_signed(
        client: TestClient, conn: Connection, world: World, push_service: str,
        tmp_path: Path) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.push_dir, settings.push_allow_loopback = tmp_path, True
    key = client.get("/api/push/key").json()["key"]
    assert key == public_key(platform_key(tmp_path))
    browser = ec.generate_private_key(ec.SECP256R1())
    auth = secrets.token_bytes(16)
    p256dh = _b64(browser.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    officer = world.actors["officer"]
    subscription = {"endpoint": f"{push_service}/push/abc", "expirationTime": None,
                    "keys": {"p256dh": p256dh, "auth": _b64(auth)}}
    # Only a push service's https address, or the loopback stand-in when allowed.
    for bad in ("http://example.org/push", "https://10.0.0.7/push", "ftp://x/y"):
        refused = client.post("/api/push/subscriptions", json={**subscription, "endpoint": bad},
                              headers=officer.headers())
        assert (refused.status_code, refused.json()["field"]) == (422, "endpoint"), bad
    assert client.post("/api/push/subscriptions", json=subscription).status_code == 401
    assert client.post("/api/push/subscriptions", json=subscription,
                       headers=officer.headers()).status_code == 204
    # An assignment tells the officer: SMS, and a push to the subscribed browser.
    dossier = world.dossiers["c1_sub"].id
    etag = client.get(f"/api/dossiers/{dossier}", headers=officer.headers()).headers["etag"]
    assigned = client.post("/api/office/assignments", json={
        "kind": "dossier", "id": dossier, "assignee_id": officer.person_id},
        headers={**world.actors["leader"].headers(), "If-Match": etag})
    assert assigned.status_code == 200, assigned.text
    sender = PushSender(lambda: nullcontext(conn), platform_key(tmp_path),
                        "mailto:cntt@example.vn")
    done = deliver(conn, {"push": sender})
    assert (done.sent, done.failed) == (1, 0)
    (path, headers, body), = StandIn.received
    assert path == "/push/abc"
    assert headers["content-encoding"] == "aes128gcm"
    assert int(headers["ttl"]) > 0
    scheme, _, params = headers["authorization"].partition(" ")
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert scheme == "vapid"
    assert fields["k"] == key
    claims = json.loads(_unb64(fields["t"].split(".")[1]))
    assert claims["aud"] == push_service
    assert claims["sub"] == "mailto:cntt@example.vn"
    message = json.loads(http_ece.decrypt(body, private_key=browser, auth_secret=auth,
                                          version="aes128gcm"))
    assert "được giao cho bạn" in message["body"]
    # The browser unsubscribed at the service: 410, and the subscription ends.
    gone = {**subscription, "endpoint": f"{push_service}/gone/1"}
    client.post("/api/push/subscriptions/end", json={"endpoint": subscription["endpoint"]},
                headers=officer.headers())
    client.post("/api/push/subscriptions", json=gone, headers=officer.headers())
    conn.exec_driver_sql("UPDATE outbox_message SET sent_at = now() WHERE channel = 'push'")
    assert queue_push(driver(conn), officer.person_id, "Thử") == 1
    assert deliver(conn, {"push": sender}).sent == 1
    assert conn.exec_driver_sql(
        "SELECT revoked_at IS NOT NULL FROM push_subscription WHERE endpoint = %(e)s",
        {"e": gone["endpoint"]}).scalar_one()
