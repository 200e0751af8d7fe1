"""Notifications leave the machine through one interface.

Requests queue messages in the outbox table (in their own transaction: the message exists only
if the request committed); `deliver` hands pending messages to one sender adapter per channel
(an SMS gateway, e-mail, Zalo). The local development sink sends nothing: the table is the inbox
(`civicmap outbox show`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from sqlalchemy import Connection

CHANNELS = ("sms", "email", "push")
MAX_ATTEMPTS = 5


class Notifier(Protocol):
    """Queues a short message to a phone (SMS) or an e-mail address."""

    def send(self, channel: str, recipient: str, body: str) -> None:
        """Queue one message."""


def queue_message(conn: psycopg.Connection[Any], channel: str, recipient: str,
                  body: str) -> None:
    """Queue one message on a psycopg connection, in its transaction (workflow effects)."""
    conn.execute("INSERT INTO outbox_message (channel, recipient, body) VALUES (%s, %s, %s)",
                 (channel, recipient, body))


class OutboxNotifier:
    """Writes messages to the outbox table, in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def send(self, channel: str, recipient: str, body: str) -> None:
        """Queue one message."""
        self.conn.exec_driver_sql(
            "INSERT INTO outbox_message (channel, recipient, body) VALUES "
            "(%(channel)s, %(recipient)s, %(body)s)",
            {"channel": channel, "recipient": recipient, "body": body},
        )


class Sender(Protocol):
    """An adapter that delivers messages of one channel (raises on failure)."""

    channel: str

    def deliver(self, recipient: str, body: str) -> None:
        """Hand one message to the gateway."""


class DevelopmentSink:
    """Delivers nothing and nowhere: on a developer's machine the outbox table is the inbox."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def deliver(self, recipient: str, body: str) -> None:
        """Accept the message."""


def development_senders() -> dict[str, Sender]:
    """One development sink per channel: what delivery uses until gateways are configured."""
    return {channel: DevelopmentSink(channel) for channel in CHANNELS}


@dataclass(frozen=True)
class Delivery:
    """What one round of delivery did."""

    sent: int
    failed: int


def deliver(conn: Connection, senders: dict[str, Sender], batch: int = 100) -> Delivery:
    """Deliver pending messages; several workers may run this at once (SKIP LOCKED). A failed
    message stays pending with its error (its kind only: no personal data) until its attempts
    run out."""
    rows = conn.exec_driver_sql(
        "SELECT id, channel, recipient, body FROM outbox_message WHERE sent_at IS NULL "
        "AND attempts < %(m)s AND channel = ANY(%(c)s) ORDER BY id LIMIT %(n)s "
        "FOR UPDATE SKIP LOCKED",
        {"m": MAX_ATTEMPTS, "c": list(senders), "n": batch},
    ).all()
    sent = failed = 0
    for row in rows:
        try:
            senders[row.channel].deliver(row.recipient, row.body)
        except Exception as exc:  # noqa: BLE001 - any gateway failure is kept for a retry
            failed += 1
            conn.exec_driver_sql(
                "UPDATE outbox_message SET attempts = attempts + 1, last_error = %(e)s "
                "WHERE id = %(i)s", {"e": type(exc).__name__, "i": row.id})
            continue
        sent += 1
        conn.exec_driver_sql("UPDATE outbox_message SET sent_at = now(), "
                             "attempts = attempts + 1 WHERE id = %(i)s", {"i": row.id})
    return Delivery(sent, failed)
