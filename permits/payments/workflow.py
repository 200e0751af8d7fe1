"""A fee payment's states and its one table of transitions: begun by the applicant, moved by
the gateway's signed notices (and by the platform when the money must go back)."""

from __future__ import annotations

import enum
from typing import Any

import psycopg

from core.workflow import SYSTEM, Transition, Visibility, Workflow, fire


class PaymentStatus(enum.StrEnum):
    """Where a payment stands."""

    PENDING = "pending"  # the applicant went to the gateway; no word from it yet
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"  # the money is to go back: asked of the gateway, not yet confirmed
    REFUNDED = "refunded"


P = PaymentStatus
# Who begins a payment: whoever may make the dossier's applicant moves (its owner).
PAY = "dossier.apply"
# The gateway's word that the money was taken wins over an earlier failure or cancellation
# (a late notice): such a payment is paid, and refunded if the dossier needs it no more.
UNPAID = (P.PENDING, P.FAILED, P.CANCELLED)


def _move(source: P | None, action: str, target: P, allowed_by: str | None) -> Transition:
    """A move its payer sees (in the dossier's payments), as its staff do."""
    return Transition(source, action, target, allowed_by, visibility=Visibility.APPLICANT)


PAYMENT = Workflow(
    name="payment",
    states=PaymentStatus,
    table="payment",
    events="payment_event",
    event_key="payment_id",
    transitions=(
        _move(None, "begin", P.PENDING, PAY),
        *(_move(s, "confirm", P.PAID, None) for s in UNPAID),
        _move(P.PENDING, "fail", P.FAILED, None),
        _move(P.PENDING, "cancel", P.CANCELLED, None),
        # A refused, declined or withdrawn dossier's fee goes back; so does a second payment.
        _move(P.PAID, "refund", P.REFUNDING, None),
        _move(P.REFUNDING, "refunded", P.REFUNDED, None),
    ),
)


def unpaid_fee(conn: psycopg.Connection[Any], dossier_id: int, procedure_id: str) -> int | None:
    """The fee a fully online (toàn trình) procedure's dossier still owes, or None: such a
    fee is paid online before the office receives the dossier."""
    found = conn.execute(
        "SELECT p.fee_vnd FROM procedure p WHERE p.id = %s AND p.online_level = 'full' "
        "AND coalesce(p.fee_vnd, 0) > 0 AND NOT EXISTS (SELECT 1 FROM payment "
        "WHERE dossier_id = %s AND status = 'paid')", (procedure_id, dossier_id)).fetchone()
    return int(found[0]) if found else None


def refund_fees(conn: psycopg.Connection[Any], dossier_id: int, because: str) -> int:
    """Every paid fee of the dossier moves to refunding (the sweep asks the gateway); how many."""
    paid = conn.execute("SELECT id FROM payment WHERE dossier_id = %s AND status = 'paid' "
                        "ORDER BY id FOR UPDATE", (dossier_id,)).fetchall()
    for (payment_id,) in paid:
        fire(conn, PAYMENT, int(payment_id), "refund", SYSTEM, detail={"because": because})
    return len(paid)
