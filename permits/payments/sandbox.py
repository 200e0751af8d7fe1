"""The sandbox gateway's own pages, standing in for a bank's: the payer sees the amount and
chooses an outcome; the gateway tells our server (its notice, server to server) and sends
the browser back with the same notice. Mounted only while the sandbox is the gateway."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import URL

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.routing import Router
from permits.payments.providers import SandboxProvider, sandbox_secret
from permits.payments.repository import PaymentRepository
from permits.payments.service import PaymentService

router = Router(prefix="/sandbox", tags=["payments"], include_in_schema=False)
Anyone = Annotated[Principal, Depends(authorize("payment.notify"))]
CHOICES = (("paid", "Thanh toán thành công"), ("failed", "Thanh toán thất bại"),
           ("cancelled", "Huỷ giao dịch"))


async def get_sandbox(request: Request) -> SandboxProvider:
    """The sandbox with the settings' key."""
    return SandboxProvider(sandbox_secret(request.app.state.settings))


Sandbox = Annotated[SandboxProvider, Depends(get_sandbox)]


def _page(fields: dict[str, str], amount: int, description: str) -> str:
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in fields.items())
    shown = f"{amount:,}".replace(",", ".")  # 100.000 đ, as Vietnamese writes it
    buttons = "".join(f'<button name="outcome" value="{v}">{escape(label)}</button> '
                      for v, label in CHOICES)
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Cổng thanh toán thử nghiệm</title></head><body>"
        "<h1>Cổng thanh toán thử nghiệm (sandbox)</h1>"
        "<p>Trang này thay cho cổng thanh toán của ngân hàng: không có tiền thật.</p>"
        f"<p>{escape(description)}</p>"
        f'<p>Số tiền: <strong id="amount">{shown} đ</strong></p>'
        f'<form method="post" action="/sandbox/pay">{hidden}{buttons}</form>'
        "</body></html>")


@router.get("/pay", response_class=HTMLResponse, summary="The sandbox gateway's page")
def page(_: Anyone, sandbox: Sandbox, request: Request) -> HTMLResponse:
    """The amount the merchant's signed request asks for, and the three outcomes."""
    params = dict(request.query_params)
    checkout = sandbox.request(params)
    return HTMLResponse(_page(params, checkout.amount_vnd, checkout.description),
                        headers={"Cache-Control": "no-store"})


@router.post("/pay", summary="The payer chose an outcome")
def chosen(_: Anyone, sandbox: Sandbox, conn: ConnectionDep, request: Request,
           outcome: Annotated[str, Form(pattern="^(paid|failed|cancelled)$")],
           reference: Annotated[str, Form(max_length=40)],
           amount_vnd: Annotated[str, Form(max_length=20)],
           description: Annotated[str, Form(max_length=300)],
           return_url: Annotated[str, Form(max_length=500)],
           signature: Annotated[str, Form(max_length=128)]) -> RedirectResponse:
    """Tell our server (as a gateway's notice would), then send the browser back with it."""
    checkout = sandbox.request({"reference": reference, "amount_vnd": amount_vnd,
                                "description": description, "return_url": return_url,
                                "signature": signature})
    notice = sandbox.notice(checkout.reference, outcome, checkout.amount_vnd)
    PaymentService(PaymentRepository(conn), sandbox).take(notice)
    back = URL(checkout.return_url).include_query_params(**notice)
    return RedirectResponse(str(back), status_code=303)
