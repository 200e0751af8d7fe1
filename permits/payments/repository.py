"""SQL of payments and the gateway's notices."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

COLUMNS = ("id, dossier_id, provider, reference, amount_vnd, status, version, provider_txn, "
           "created_at, updated_at, paid_at, refunded_at")


class PaymentRepository:
    """Reads and writes payments (their status only through the engine)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def fee(self, procedure_id: str) -> Any:
        """The procedure's fee, its online level and name."""
        return self.conn.exec_driver_sql(
            "SELECT fee_vnd, online_level, name_vi FROM procedure WHERE id = %(i)s",
            {"i": procedure_id}).first()

    def get(self, payment_id: int) -> Any:
        """One payment, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM payment WHERE id = %(i)s", {"i": payment_id}).first()

    def by_reference(self, reference: str) -> Any:
        """The payment the gateway knows by this reference, locked, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM payment WHERE reference = %(r)s FOR UPDATE",
            {"r": reference}).first()

    def of_dossier(self, dossier_id: int) -> list[Any]:
        """A dossier's payments, the newest first."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM payment WHERE dossier_id = %(d)s ORDER BY id DESC",
            {"d": dossier_id}))

    def notice(self, payment_id: int, outcome: str, provider_txn: str) -> Any:
        """The notice already kept with these facts, or None."""
        return self.conn.exec_driver_sql(
            "SELECT id, applied FROM payment_notice WHERE payment_id = %(p)s "
            "AND outcome = %(o)s AND provider_txn = %(t)s",
            {"p": payment_id, "o": outcome, "t": provider_txn}).first()

    def keep_notice(self, payment_id: int, outcome: str, provider_txn: str, amount_vnd: int,
                    sent_at: datetime | None, applied: str,
                    payload: Mapping[str, str]) -> None:
        """Keep a notice and what it did."""
        self.conn.exec_driver_sql(
            "INSERT INTO payment_notice (payment_id, outcome, provider_txn, amount_vnd, "
            "sent_at, applied, payload) VALUES (%(p)s, %(o)s, %(t)s, %(a)s, %(s)s, %(d)s, "
            "%(j)s::jsonb)",
            {"p": payment_id, "o": outcome, "t": provider_txn, "a": amount_vnd, "s": sent_at,
             "d": applied, "j": json.dumps(dict(payload))})

    def to_refund(self, limit: int) -> list[Any]:
        """Payments whose money is to go back and whose gateway was not asked in the last
        quarter hour (a crash, or a gateway that did not answer, is asked again)."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM payment WHERE status = 'refunding' "
            "AND (refund_asked_at IS NULL OR refund_asked_at < now() - interval '15 minutes') "
            "ORDER BY id LIMIT %(n)s FOR UPDATE SKIP LOCKED", {"n": limit}))

    def refund_asked(self, payment_id: int) -> None:
        """The gateway was asked to pay this one back."""
        self.conn.exec_driver_sql("UPDATE payment SET refund_asked_at = now() WHERE id = %(i)s",
                                  {"i": payment_id})
