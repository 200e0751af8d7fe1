"""What the payment routes take and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from permits.payments.workflow import PaymentStatus


class PaymentBegin(BaseModel):
    """Nothing to say: the amount is the procedure's fee, never the client's figure."""

    model_config = ConfigDict(extra="forbid")


class PaymentPublic(BaseModel):
    """A payment as its payer and the staff see it."""

    id: int
    reference: str = Field(description="What the gateway knows it by")
    amount_vnd: int
    status: PaymentStatus
    provider: str
    created_at: datetime
    paid_at: datetime | None = None
    refunded_at: datetime | None = None


class PaymentStarted(PaymentPublic):
    """A payment begun, and where the payer's browser goes to pay it."""

    checkout_url: str


class NoticeTaken(BaseModel):
    """What the gateway's notice did."""

    reference: str
    status: PaymentStatus
    applied: str = Field(description="confirmed, failed, cancelled, refunded, or ignored: why")
    duplicate: bool = Field(description="The same notice came before: nothing changed")


class DossierFee(BaseModel):
    """A dossier's fee, whether it is paid online before receipt, and its payments."""

    fee_vnd: int | None = Field(description="The procedure's fee (None: no fee)")
    due_online: bool = Field(description="Fully online (toàn trình): paid before receipt")
    paid: bool
    payable: bool = Field(description="The caller may pay it now")
    payments: list[PaymentPublic] = Field(description="The newest first")
