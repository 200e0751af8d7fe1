"""Fees paid online through the sandbox gateway: the amount is the procedure's, the dossier is
received only once paid (toàn trình), every notice is believed for its signature alone, the
same notice twice is one, late and out-of-order notices do what the money did, and a dossier
that ends without a result gets its fee back."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection

from core.settings import Settings
from core.workflow import SYSTEM, fire
from permits.payments.providers import SandboxProvider, provider_for
from permits.payments.repository import PaymentRepository
from permits.payments.service import PaymentService
from permits.workflow import DOSSIER
from tests.accounts.world import BUSINESS, World, build


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


@pytest.fixture
def sandbox(client: TestClient) -> SandboxProvider:
    """The gateway as the app under test knows it (the same key)."""
    provider = provider_for(client.app.state.settings)  # type: ignore[attr-defined]
    assert isinstance(provider, SandboxProvider)
    return provider


def _fee(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT fee_vnd FROM procedure WHERE id = %(p)s",
                                    {"p": BUSINESS}).scalar_one())


def _begin(client: TestClient, world: World, dossier: str = "c2_sub",
           expect: int = 201, **body: Any) -> Any:
    answer = client.post(f"/api/dossiers/{world.dossiers[dossier].id}/payments",
                         headers={**world.actors["citizen2"].headers(),
                                  "Idempotency-Key": secrets.token_hex(16)}, json=body or None)
    assert answer.status_code == expect, answer.text
    return answer.json()


def _notify(client: TestClient, params: dict[str, str], expect: int = 200) -> Any:
    answer = client.post("/api/payments/sandbox/notify", json=params)
    assert answer.status_code == expect, answer.text
    return answer.json()


def _status(conn: Connection, payment_id: int) -> str:
    return str(conn.exec_driver_sql("SELECT status FROM payment WHERE id = %(i)s",
                                    {"i": payment_id}).scalar_one())


def _counts(conn: Connection) -> tuple[int, int]:
    return tuple(conn.exec_driver_sql(  # type: ignore[return-value]
        "SELECT (SELECT count(*) FROM payment_notice), (SELECT count(*) FROM payment_event)"
    ).one())


def _receive(client: TestClient, world: World, dossier: str = "c2_sub",
             expect: int = 200) -> Any:
    row = world.dossiers[dossier]
    version = client.get(f"/api/dossiers/{row.id}", headers=world.actors["officer2"].headers())
    answer = client.post(f"/api/dossiers/{row.id}/actions", json={"action": "receive"},
                         headers={**world.actors["officer2"].headers(),
                                  "If-Match": version.headers["etag"]})
    assert answer.status_code == expect, answer.text
    return answer.json()


def test_a_fully_online_dossier_is_received_only_once_its_fee_is_paid(
        client: TestClient, conn: Connection, world: World, sandbox: SandboxProvider) -> None:
    path = f"/api/dossiers/{world.dossiers['c2_sub'].id}/payments"
    owed = client.get(path, headers=world.actors["citizen2"].headers()).json()
    assert (owed["paid"], owed["payable"], owed["payments"]) == (False, True, [])
    # The officer sees the fee, and may not pay it.
    assert client.get(path, headers=world.actors["officer2"].headers()).json()["payable"] is False
    refused = _receive(client, world, expect=409)
    assert [g["guard"] for g in refused["guards"]] == ["fee_paid"]
    assert "100.000 đ" in refused["guards"][0]["reason"]
    started = _begin(client, world)
    # The amount is the procedure's; the client has no say in it.
    assert started["amount_vnd"] == _fee(conn)
    assert started["status"] == "pending"
    _begin(client, world, expect=422, amount_vnd=1)
    # The same pending payment is offered again, not a second one.
    assert _begin(client, world)["id"] == started["id"]
    # The gateway's page shows the amount of the signed request; a changed amount is refused.
    page = client.get(started["checkout_url"])
    assert page.status_code == 200
    assert "100.000 đ" in page.text
    query = dict(parse_qsl(urlsplit(started["checkout_url"]).query))
    forged = client.get("/sandbox/pay", params={**query, "amount_vnd": "1000"})
    assert forged.status_code == 422
    assert forged.json()["field"] == "signature"
    # The payer pays: the gateway tells our server and sends the browser back with the notice.
    paid = client.post("/sandbox/pay", data={**query, "outcome": "paid"},
                       follow_redirects=False)
    assert paid.status_code == 303
    back = urlsplit(paid.headers["location"])
    assert back.path == "/api/payments/sandbox/return"
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303
    assert landed.headers["location"] == \
        f"/#/dossiers/{world.dossiers['c2_sub'].id}?payment=paid"
    assert _status(conn, started["id"]) == "paid"
    fee = client.get(f"/api/dossiers/{world.dossiers['c2_sub'].id}/payments",
                     headers=world.actors["citizen2"].headers()).json()
    assert (fee["fee_vnd"], fee["due_online"], fee["paid"], fee["payable"]) == \
        (_fee(conn), True, True, False)
    assert [(p["id"], p["status"]) for p in fee["payments"]] == [(started["id"], "paid")]
    assert fee["payments"][0]["paid_at"] is not None
    _begin(client, world, expect=409)  # paid already
    assert _receive(client, world)["status"] == "received"


def test_who_may_pay_and_what(client: TestClient, world: World) -> None:
    # Somebody else's dossier is not there; a procedure without a fee has nothing to pay.
    answer = client.post(f"/api/dossiers/{world.dossiers['c1_sub'].id}/payments",
                         headers={**world.actors["citizen2"].headers(),
                                  "Idempotency-Key": secrets.token_hex(16)})
    assert answer.status_code == 404
    _begin(client, world, dossier="c2_draft", expect=409)  # not submitted yet


def test_forged_malformed_unknown_or_wrong_amount_notices_write_nothing(
        client: TestClient, conn: Connection, world: World, sandbox: SandboxProvider) -> None:
    started = _begin(client, world)
    before = _counts(conn)
    good = sandbox.notice(started["reference"], "paid", started["amount_vnd"])
    forged = {**good, "outcome": "paid", "signature": "0" * 64}
    assert _notify(client, forged, 422)["field"] == "signature"
    assert _notify(client, {**good, "amount_vnd": "1"}, 422)["field"] == "signature"
    other_key = SandboxProvider(b"k" * 32).notice(started["reference"], "paid", 100_000)
    assert _notify(client, other_key, 422)["field"] == "signature"
    wrong_amount = sandbox.notice(started["reference"], "paid", started["amount_vnd"] + 1)
    assert _notify(client, wrong_amount, 422)["field"] == "amount_vnd"
    unknown = sandbox.notice(secrets.token_urlsafe(18), "paid", started["amount_vnd"])
    assert _notify(client, unknown, 422)["field"] == "reference"
    assert _notify(client, {k: v for k, v in good.items() if k != "provider_txn"},
                   422)["field"] == "provider_txn"
    assert _notify(client, sandbox.signed({**good, "outcome": "stolen"}), 422)["field"] == \
        "outcome"
    assert _counts(conn) == before
    assert _status(conn, started["id"]) == "pending"


def test_the_same_notice_twice_is_one_and_out_of_order_ones_do_not_undo_a_payment(
        client: TestClient, conn: Connection, world: World, sandbox: SandboxProvider) -> None:
    started = _begin(client, world)
    paid = sandbox.notice(started["reference"], "paid", started["amount_vnd"])
    first = _notify(client, paid)
    assert (first["applied"], first["duplicate"], first["status"]) == \
        ("confirmed", False, "paid")
    events = _counts(conn)
    again = _notify(client, paid)
    assert (again["applied"], again["duplicate"], again["status"]) == ("confirmed", True, "paid")
    assert _counts(conn) == events
    # A failure the gateway sends after the payment went through changes nothing.
    late_failure = _notify(client, sandbox.notice(started["reference"], "failed",
                                                  started["amount_vnd"]))
    assert late_failure["applied"] == "ignored: the payment is paid"
    assert _status(conn, started["id"]) == "paid"
    # A replay after the dossier moved on is still the same notice.
    _receive(client, world)
    assert _notify(client, paid)["duplicate"] is True
    assert conn.exec_driver_sql("SELECT status FROM dossier WHERE id = %(i)s",
                                {"i": world.dossiers["c2_sub"].id}).scalar_one() == "received"


def test_failed_and_cancelled_payments_can_be_tried_again(
        client: TestClient, conn: Connection, world: World, sandbox: SandboxProvider) -> None:
    first = _begin(client, world)
    assert _notify(client, sandbox.notice(first["reference"], "failed",
                                          first["amount_vnd"]))["status"] == "failed"
    second = _begin(client, world)
    assert second["id"] != first["id"]
    assert second["reference"] != first["reference"]
    assert _notify(client, sandbox.notice(second["reference"], "cancelled",
                                          second["amount_vnd"]))["status"] == "cancelled"
    _receive(client, world, expect=409)  # nothing paid yet


def _refunded(client: TestClient, conn: Connection) -> int:
    """The refund sweep, as the queue's minute runs it."""
    provider = provider_for(client.app.state.settings)  # type: ignore[attr-defined]
    return PaymentService(PaymentRepository(conn), provider).ask_refunds()


def test_money_taken_late_for_an_ended_dossier_or_twice_goes_back(
        client: TestClient, conn: Connection, world: World, sandbox: SandboxProvider) -> None:
    first = _begin(client, world)
    _notify(client, sandbox.notice(first["reference"], "cancelled", first["amount_vnd"]))
    second = _begin(client, world)
    assert _notify(client, sandbox.notice(second["reference"], "paid",
                                          second["amount_vnd"]))["applied"] == "confirmed"
    # The bank took the money of the cancelled attempt after all: paid twice, so it goes back.
    late = _notify(client, sandbox.notice(first["reference"], "paid", first["amount_vnd"]))
    assert (late["applied"], late["status"]) == ("confirmed, to be refunded", "refunding")
    assert _refunded(client, conn) == 1
    assert (_status(conn, first["id"]), _status(conn, second["id"])) == ("refunded", "paid")
    assert _refunded(client, conn) == 0  # asked once


def test_a_refused_or_withdrawn_dossier_gets_its_fee_back(
        client: TestClient, conn: Connection, world: World, sandbox: SandboxProvider) -> None:
    started = _begin(client, world)
    paid = sandbox.notice(started["reference"], "paid", started["amount_vnd"])
    _notify(client, paid)
    dossier = world.dossiers["c2_sub"].id
    fire(conn, DOSSIER, dossier, "receive", SYSTEM)
    fire(conn, DOSSIER, dossier, "start", SYSTEM)
    fire(conn, DOSSIER, dossier, "refuse", SYSTEM, detail={"reasons": ["Ngành nghề cấm"]})
    assert _status(conn, started["id"]) == "refunding"
    assert _refunded(client, conn) == 1
    assert _status(conn, started["id"]) == "refunded"
    refunded_at = conn.exec_driver_sql("SELECT refunded_at FROM payment WHERE id = %(i)s",
                                       {"i": started["id"]}).scalar_one()
    assert refunded_at is not None
    # The old "paid" notice replayed after the refund changes nothing.
    assert _notify(client, paid)["duplicate"] is True
    assert _status(conn, started["id"]) == "refunded"
    # Money that arrives for a withdrawn dossier goes straight back.
    other = world.dossiers["c2_economy_my_ward"].id
    pending = client.post(f"/api/dossiers/{other}/payments", headers={
        **world.actors["citizen2"].headers(), "Idempotency-Key": secrets.token_hex(16)}).json()
    fire(conn, DOSSIER, other, "withdraw", SYSTEM)
    late = _notify(client, sandbox.notice(pending["reference"], "paid", pending["amount_vnd"]))
    assert late["applied"] == "confirmed, to be refunded"


def test_an_unknown_gateway_is_refused_by_the_settings() -> None:
    # Only the sandbox exists today: a name the platform has no adapter for is an error.
    with pytest.raises(ValueError, match="payment_provider"):
        Settings(payment_provider="vnpay")  # type: ignore[arg-type]
