"""Sender adapters: pending messages are delivered once; a failing gateway keeps them."""

from __future__ import annotations

from sqlalchemy import Connection

from core.notify import MAX_ATTEMPTS, DevelopmentSink, OutboxNotifier, Sender, deliver


class Gateway:
    """A sender that records what it was given, or fails when told to."""

    def __init__(self, channel: str, fail: bool = False) -> None:
        self.channel = channel
        self.fail = fail
        self.got: list[tuple[str, str]] = []

    def deliver(self, recipient: str, body: str) -> None:
        if self.fail:
            raise ConnectionError("gateway down")
        self.got.append((recipient, body))


def _pending(conn: Connection) -> int:
    return int(conn.exec_driver_sql(
        "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL").scalar_one())


def test_messages_go_out_once_per_channel(conn: Connection) -> None:
    conn.exec_driver_sql("UPDATE outbox_message SET sent_at = now() WHERE sent_at IS NULL")
    outbox = OutboxNotifier(conn)
    outbox.send("sms", "+84901111111", "mã 123456")
    outbox.send("email", "a@example.vn", "mã 654321")
    sms = Gateway("sms")
    senders: dict[str, Sender] = {"sms": sms, "email": DevelopmentSink("email")}
    done = deliver(conn, senders)
    assert (done.sent, done.failed) == (2, 0)
    assert sms.got == [("+84901111111", "mã 123456")]
    assert deliver(conn, senders).sent == 0
    assert _pending(conn) == 0


def test_a_failing_gateway_keeps_the_message_until_attempts_run_out(conn: Connection) -> None:
    conn.exec_driver_sql("UPDATE outbox_message SET sent_at = now() WHERE sent_at IS NULL")
    OutboxNotifier(conn).send("sms", "+84902222222", "mã 111111")
    down: dict[str, Sender] = {"sms": Gateway("sms", fail=True)}
    for _ in range(MAX_ATTEMPTS + 2):
        deliver(conn, down)
    row = conn.exec_driver_sql("SELECT attempts, last_error, sent_at FROM outbox_message "
                               "WHERE recipient = '+84902222222'").one()
    assert (row.attempts, row.last_error, row.sent_at) == (MAX_ATTEMPTS, "ConnectionError", None)
    assert "+8490" not in (row.last_error or "")
