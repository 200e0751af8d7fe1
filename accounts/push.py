"""Web Push to a person's browsers (RFC 8030, encrypted per RFC 8291, signed with VAPID,
RFC 8292): their subscriptions, the platform's key made once, and the outbox's `push` sender.
The push services are outside the machine: the sender is used only when delivery is on (a local
stand-in in the tests); otherwise the outbox keeps the messages as it keeps SMS and e-mail."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import Connection

from core.errors import InvalidInputError
from core.notify import queue_message

TTL_S = 24 * 3600  # a reminder a day late is no longer one


def platform_key(folder: Path) -> Vapid02:
    """The platform's VAPID key, made once (readable by its owner alone)."""
    path = folder / "vapid_private.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = Vapid02()
        key.generate_keys()
        temp = path.with_suffix(".tmp")
        temp.write_bytes(key.private_pem())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    return Vapid02.from_file(str(path))


def public_key(key: Vapid02) -> str:
    """The applicationServerKey a browser subscribes with (base64url, uncompressed point)."""
    raw = key.public_key.public_bytes(serialization.Encoding.X962,
                                      serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check_endpoint(endpoint: str, allow_loopback: bool) -> None:
    """A push service's https address (never one of our network's; loopback for a stand-in
    when allowed)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    loopback = address is not None and address.is_loopback
    if loopback and allow_loopback and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https" or not host or (address is not None and (
            address.is_private or address.is_loopback or address.is_link_local)):
        raise InvalidInputError("a push service's https address", "endpoint")


def subscribe(conn: Connection, person_id: int, endpoint: str, p256dh: str, auth: str) -> None:
    """The browser's subscription, for this person (a browser moving to another account
    takes its subscription along)."""
    conn.exec_driver_sql(
        "INSERT INTO push_subscription (person_id, endpoint, p256dh, auth) VALUES "
        "(%(p)s, %(e)s, %(k)s, %(a)s) ON CONFLICT (endpoint) DO UPDATE SET person_id = "
        "EXCLUDED.person_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, revoked_at = NULL",
        {"p": person_id, "e": endpoint, "k": p256dh, "a": auth})


def unsubscribe(conn: Connection, person_id: int, endpoint: str) -> None:
    """The browser's subscription ends."""
    conn.exec_driver_sql(
        "UPDATE push_subscription SET revoked_at = now() WHERE person_id = %(p)s "
        "AND endpoint = %(e)s AND revoked_at IS NULL", {"p": person_id, "e": endpoint})


def queue_push(conn: psycopg.Connection[Any], person_id: int, text: str,
               link: str | None = None) -> int:
    """One outbox message per live subscription of the person; how many."""
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM push_subscription WHERE person_id = %s "
                    "AND revoked_at IS NULL", (person_id,))
        ids = [int(r[0]) for r in cur.fetchall()]
    body = json.dumps({"title": "civicmap", "body": text, "url": link or "#/office"},
                      ensure_ascii=False)
    for subscription in ids:
        queue_message(conn, "push", str(subscription), body)
    return len(ids)


class PushSender:
    """The outbox's `push` channel: each message encrypted to its subscription and posted to
    its push service; a subscription the service says is gone (404, 410) is revoked."""

    channel = "push"

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]],
                 key: Vapid02, subject: str) -> None:
        self.connect, self.key, self.subject = connect, key, subject  # connect: engine.begin

    def deliver(self, recipient: str, body: str) -> None:
        """Post one message (raises on failure: the outbox retries)."""
        with self.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT endpoint, p256dh, auth FROM push_subscription WHERE id = %(i)s "
                "AND revoked_at IS NULL", {"i": int(recipient)}).first()
        if row is None:
            return  # unsubscribed since: nothing to deliver
        info = {"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh, "auth": row.auth}}
        audience = "{0.scheme}://{0.netloc}".format(urlsplit(row.endpoint))
        try:
            webpush(info, data=body, vapid_private_key=self.key,
                    vapid_claims={"sub": self.subject, "aud": audience}, ttl=TTL_S,
                    timeout=10)
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):
                with self.connect() as conn:
                    conn.exec_driver_sql("UPDATE push_subscription SET revoked_at = now() "
                                         "WHERE id = %(i)s", {"i": int(recipient)})
                return
            raise
