"""Notifications leave the machine through one interface; the local implementation is the outbox."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection


class Notifier(Protocol):
    """Sends a short message to a phone (SMS) or an e-mail address."""

    def send(self, channel: str, recipient: str, body: str) -> None:
        """Queue or send one message."""


class OutboxNotifier:
    """Writes messages to the outbox table, in the caller's transaction.

    A sender adapter (SMS gateway, e-mail, Zalo) delivers them later; in development the
    table is the inbox. Either the whole request is committed with its message, or neither.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def send(self, channel: str, recipient: str, body: str) -> None:
        """Queue one message."""
        self.conn.exec_driver_sql(
            "INSERT INTO outbox_message (channel, recipient, body) VALUES "
            "(%(channel)s, %(recipient)s, %(body)s)",
            {"channel": channel, "recipient": recipient, "body": body},
        )
