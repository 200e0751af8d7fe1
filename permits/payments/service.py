"""Rules of fees paid online: who may pay, how much (the procedure's fee, never the client's
figure), what each notice of the gateway does, and the money going back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accounts.policy import Principal, may, workflow_actor
from core.errors import ConflictError, InvalidInputError
from core.workflow import NOW, SYSTEM, create, fire
from permits.payments.providers import Checkout, Notice, PaymentProvider, new_reference
from permits.payments.repository import PaymentRepository
from permits.payments.schemas import DossierFee, PaymentPublic
from permits.payments.workflow import PAYMENT, PaymentStatus
from permits.repository import DossierRepository
from permits.service import reached, subject
from permits.workflow import DossierStatus

S, P = DossierStatus, PaymentStatus
# A fee is paid once the dossier is submitted and before its result is out; a dossier that
# ended without a result (withdrawn, declined, refused) gets its fee back.
PAYABLE = (S.AWAITING_RECEIPT, S.RECEIVED, S.IN_PROCESSING, S.SUPPLEMENT_REQUESTED,
           S.SUPPLEMENTED, S.OVERDUE, S.APPROVED)
NO_FEE_KEPT = (S.WITHDRAWN, S.CANCELLED, S.REFUSED)


@dataclass(frozen=True)
class Applied:
    """What a notice did to its payment."""

    payment: Any
    applied: str  # confirmed, failed, cancelled, refunded, refund-asked, or ignored: why
    duplicate: bool = False


class PaymentService:
    """Payments of dossiers' fees, through the gateway the settings name."""

    def __init__(self, repository: PaymentRepository, provider: PaymentProvider) -> None:
        self.repo = repository
        self.dossiers = DossierRepository(repository.conn)
        self.provider = provider

    def begin(self, principal: Principal, dossier_id: int, origin: str) -> tuple[Any, str]:
        """A payment of the dossier's fee (the one still pending, if there is one) and where
        the payer's browser goes to pay it."""
        dossier = reached(self.dossiers, principal, "dossier.apply", dossier_id, lock=True)
        fee = self.repo.fee(dossier.procedure_id)
        if fee is None or not fee.fee_vnd:
            raise ConflictError("this procedure carries no fee", "dossier_id")
        if dossier.status not in PAYABLE:
            raise ConflictError("the fee is paid once the dossier is submitted, before its "
                                f"result (it is {dossier.status})", "status")
        payments = self.repo.of_dossier(dossier_id)
        if any(p.status == P.PAID for p in payments):
            raise ConflictError("the fee is paid already", "dossier_id")
        pending = next((p for p in payments if p.status == P.PENDING), None)
        if pending is None:
            made = create(self.repo.conn, PAYMENT, "begin",
                          workflow_actor(principal, lambda _: subject(dossier)), {
                              "dossier_id": dossier_id, "provider": self.provider.name,
                              "reference": new_reference(), "amount_vnd": int(fee.fee_vnd),
                              "created_by": principal.person_id})
            pending = self.repo.get(made.row_id)
        checkout = Checkout(pending.reference, pending.amount_vnd,
                            f"Lệ phí hồ sơ {dossier.code}: {fee.name_vi}"[:200],
                            f"{origin}/api/payments/{self.provider.name}/return")
        return pending, self.provider.checkout_url(checkout, origin)

    def of_dossier(self, principal: Principal, dossier_id: int) -> DossierFee:
        """The fee and payments of a dossier the principal may read."""
        dossier = reached(self.dossiers, principal, "dossier.read", dossier_id)
        fee = self.repo.fee(dossier.procedure_id)
        payments = self.repo.of_dossier(dossier_id)
        paid = any(p.status == P.PAID for p in payments)
        amount = int(fee.fee_vnd) if fee is not None and fee.fee_vnd else None
        return DossierFee(
            fee_vnd=amount, due_online=bool(amount) and fee.online_level == "full",
            paid=paid, payable=bool(amount) and not paid and dossier.status in PAYABLE
            and may(principal, "dossier.apply", subject(dossier)),
            payments=[PaymentPublic.model_validate(p, from_attributes=True) for p in payments])

    def take(self, params: Mapping[str, str]) -> Applied:
        """Apply a notice of the gateway. A forged, malformed or unknown one is refused and
        nothing is written; the same notice again changes nothing; a late or out-of-order
        one is kept with what it did (nothing, or a refund of money taken late)."""
        notice = self.provider.verify(params)
        payment = self.repo.by_reference(notice.reference)
        if payment is None:
            raise InvalidInputError("no payment has this reference", "reference")
        if notice.amount_vnd != payment.amount_vnd:
            raise InvalidInputError(f"the amount ({notice.amount_vnd} đ) is not the payment's "
                                    f"({payment.amount_vnd} đ)", "amount_vnd")
        twin = self.repo.notice(payment.id, notice.outcome, notice.provider_txn)
        if twin is not None:
            return Applied(payment, str(twin.applied), duplicate=True)
        applied = self._apply(payment, notice)
        self.repo.keep_notice(payment.id, notice.outcome, notice.provider_txn,
                              notice.amount_vnd, notice.sent_at, applied, notice.payload)
        return Applied(self.repo.get(payment.id), applied)

    def _apply(self, payment: Any, notice: Notice) -> str:
        move = {"paid": "confirm", "failed": "fail", "cancelled": "cancel",
                "refunded": "refunded"}[notice.outcome]
        if PAYMENT.move(payment.status, move) is None:
            return f"ignored: the payment is {payment.status}"
        detail = {"provider_txn": notice.provider_txn, "amount_vnd": notice.amount_vnd}
        values: dict[str, Any] = {"updated_at": NOW}
        if move == "confirm":
            values.update(provider_txn=notice.provider_txn, paid_at=NOW)
        elif move == "refunded":
            values["refunded_at"] = NOW
        fire(self.repo.conn, PAYMENT, payment.id, move, SYSTEM, detail=detail, values=values)
        if move == "confirm" and self._not_needed(payment):
            fire(self.repo.conn, PAYMENT, payment.id, "refund", SYSTEM,
                 detail={"because": "the fee was paid already, or the dossier ended"})
            return "confirmed, to be refunded"
        return {"confirm": "confirmed", "fail": "failed", "cancel": "cancelled",
                "refunded": "refunded"}[move]

    def _not_needed(self, payment: Any) -> bool:
        """Money taken for a dossier that paid already, or that ended without a result."""
        others = [p for p in self.repo.of_dossier(payment.dossier_id)
                  if p.id != payment.id and p.status == P.PAID]
        dossier = self.dossiers.get(payment.dossier_id)
        return bool(others) or dossier is None or dossier.status in NO_FEE_KEPT

    def ask_refunds(self, limit: int = 100) -> int:
        """Ask the gateway to pay back each payment that is refunding; how many were asked.
        (A gateway that answers at once has its answer applied as its notice.)"""
        asked = 0
        for payment in self.repo.to_refund(limit):
            self.repo.refund_asked(payment.id)
            answer = self.provider.refund(payment.reference, payment.provider_txn or "",
                                          payment.amount_vnd)
            if answer:
                self.take(answer)
            asked += 1
        return asked

