"""Fee gateways behind one small interface, and the sandbox: a gateway of our own for
development and tests, with a page that stands in for the bank's (pay, fail, cancel).

A gateway is told what to collect by a signed request (the browser carries it there) and
answers by signed notices: one the browser brings back, one it sends server to server, both
the same, both possibly late, twice or out of order. Only a notice whose signature holds is
believed; the amount is always checked against the payment's own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlencode

from core.errors import InvalidInputError
from core.settings import Settings

OUTCOMES = ("paid", "failed", "cancelled", "refunded")
REFERENCE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
TXN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_AMOUNT = 10**12  # more than any fee: a bigger figure is not a fee, it is an error


@dataclass(frozen=True)
class Checkout:
    """What the gateway is asked to collect, and where it sends the payer back."""

    reference: str
    amount_vnd: int
    description: str
    return_url: str


@dataclass(frozen=True)
class Notice:
    """What a gateway says happened to a payment, its signature checked."""

    reference: str
    outcome: str
    provider_txn: str
    amount_vnd: int
    sent_at: datetime | None
    payload: Mapping[str, str]


class PaymentProvider(Protocol):
    """A fee gateway."""

    name: str

    def checkout_url(self, checkout: Checkout, origin: str) -> str:
        """Where the payer's browser goes to pay."""
        ...

    def verify(self, params: Mapping[str, str]) -> Notice:
        """The notice in these parameters; InvalidInputError (naming the field) unless it is
        whole and its signature holds."""
        ...

    def refund(self, reference: str, provider_txn: str, amount_vnd: int) -> Mapping[str, str]:
        """Ask the gateway to pay the money back; its answer's parameters (a notice)."""
        ...


def new_reference() -> str:
    """A payment's reference for the gateway: random, so that it tells nothing of others."""
    return secrets.token_urlsafe(18)


class SandboxProvider:
    """The sandbox gateway: HMAC-SHA256 signatures over the sorted parameters."""

    name = "sandbox"

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, params: Mapping[str, str]) -> str:
        """The signature of the parameters (every one but the signature itself)."""
        text = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def signed(self, params: Mapping[str, str]) -> dict[str, str]:
        """The parameters with their signature."""
        return {**params, "signature": self.sign(params)}

    def _check(self, params: Mapping[str, str], fields: tuple[str, ...]) -> None:
        for name in (*fields, "signature"):
            if not str(params.get(name) or "").strip():
                raise InvalidInputError(f"the gateway's message has no {name}", name)
        if not hmac.compare_digest(self.sign(params), str(params["signature"])):
            raise InvalidInputError("the signature does not match: not the gateway's message",
                                    "signature")

    def checkout_url(self, checkout: Checkout, origin: str) -> str:
        """The sandbox's page, with the signed request in its query."""
        query = self.signed({"reference": checkout.reference,
                             "amount_vnd": str(checkout.amount_vnd),
                             "description": checkout.description,
                             "return_url": checkout.return_url})
        return f"{origin}/sandbox/pay?{urlencode(query)}"

    def request(self, params: Mapping[str, str]) -> Checkout:
        """The checkout a signed request asks for (what the gateway's page trusts)."""
        self._check(params, ("reference", "amount_vnd", "description", "return_url"))
        return Checkout(str(params["reference"]), _amount(params), str(params["description"]),
                        str(params["return_url"]))

    def notice(self, reference: str, outcome: str, amount_vnd: int,
               provider_txn: str | None = None) -> dict[str, str]:
        """What the gateway sends when a payment ends one way or another (signed)."""
        return self.signed({"reference": reference, "outcome": outcome,
                            "amount_vnd": str(amount_vnd),
                            "provider_txn": provider_txn or "SBX" + secrets.token_hex(8),
                            "sent_at": datetime.now(UTC).isoformat(timespec="seconds")})

    def verify(self, params: Mapping[str, str]) -> Notice:
        """The notice, its signature and every field checked."""
        self._check(params, ("reference", "outcome", "amount_vnd", "provider_txn"))
        if not REFERENCE.match(str(params["reference"])):
            raise InvalidInputError("the reference is not one of ours", "reference")
        if params["outcome"] not in OUTCOMES:
            raise InvalidInputError(f"unknown outcome {params['outcome']!r}", "outcome")
        if not TXN.match(str(params["provider_txn"])):
            raise InvalidInputError("the gateway's transaction number is malformed",
                                    "provider_txn")
        return Notice(str(params["reference"]), str(params["outcome"]),
                      str(params["provider_txn"]), _amount(params),
                      _moment(params.get("sent_at")), dict(params))

    def refund(self, reference: str, provider_txn: str, amount_vnd: int) -> Mapping[str, str]:
        """The sandbox pays back at once: its answer is the refund's notice."""
        return self.notice(reference, "refunded", amount_vnd, provider_txn)


def _amount(params: Mapping[str, str]) -> int:
    text = str(params.get("amount_vnd") or "")
    if not text.isdigit() or not 0 < int(text) < MAX_AMOUNT:
        raise InvalidInputError("the amount is not a whole number of đồng", "amount_vnd")
    return int(text)


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def sandbox_secret(settings: Settings) -> bytes:
    """The sandbox's signing key: its own setting, else one derived from the server key."""
    if settings.payment_sandbox_secret is not None:
        return settings.payment_sandbox_secret.get_secret_value().encode()
    return hmac.new(settings.server_key(), b"payment-sandbox", hashlib.sha256).digest()


def provider_for(settings: Settings) -> PaymentProvider:
    """The gateway the settings name."""
    return SandboxProvider(sandbox_secret(settings))
