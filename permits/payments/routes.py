"""HTTP routes of fees paid online: begin a payment, list them, and the gateway's notices
(server to server, and the payer's browser coming back)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, Path, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.errors import NotFoundError
from core.idempotency import IdempotencyDep
from core.routing import Router
from permits.payments.providers import PaymentProvider, provider_for
from permits.payments.repository import PaymentRepository
from permits.payments.schemas import DossierFee, NoticeTaken, PaymentBegin, PaymentStarted
from permits.payments.service import Applied, PaymentService

router = Router(tags=["payments"])

Payer = Annotated[Principal, Depends(authorize("dossier.apply"))]
Reader = Annotated[Principal, Depends(authorize("dossier.read"))]
Gateway = Annotated[Principal, Depends(authorize("payment.notify"))]
DossierId = Annotated[int, Path(ge=1, le=2**62)]
ProviderName = Annotated[str, Path(pattern=r"^[a-z]{2,32}$")]


async def get_provider(request: Request) -> PaymentProvider:
    """The gateway the settings name (a dependency, so that it can be swapped)."""
    return provider_for(request.app.state.settings)


Provider = Annotated[PaymentProvider, Depends(get_provider)]


async def _service(conn: ConnectionDep, provider: Provider) -> PaymentService:
    return PaymentService(PaymentRepository(conn), provider)


Service = Annotated[PaymentService, Depends(_service)]


def _known(provider: PaymentProvider, name: str) -> None:
    if name != provider.name:
        raise NotFoundError(f"no payment gateway {name!r}", "provider")


def _taken(done: Applied) -> NoticeTaken:
    return NoticeTaken(reference=done.payment.reference, status=done.payment.status,
                       applied=done.applied, duplicate=done.duplicate)


@router.post("/api/dossiers/{dossier_id}/payments", status_code=201,
             response_model=PaymentStarted, summary="Pay the dossier's fee: go to the gateway",
             responses={409: {"description": "No fee, paid already, or not payable now"}})
def begin(dossier_id: DossierId, caller: Payer, service: Service, idem: IdempotencyDep,
          request: Request, body: PaymentBegin | None = None) -> Response:
    """The amount is the procedure's fee; the answer's checkout_url is the gateway's page."""
    def made() -> Response:
        row, url = service.begin(caller, dossier_id, str(request.base_url).rstrip("/"))
        started = PaymentStarted.model_validate({**row._mapping, "checkout_url": url})
        return JSONResponse(started.model_dump(mode="json"), status_code=201)
    return idem.answer(made)


@router.get("/api/dossiers/{dossier_id}/payments", response_model=DossierFee,
            summary="The dossier's fee and its payments, the newest first")
def payments(dossier_id: DossierId, caller: Reader, service: Service) -> DossierFee:
    """Each attempt with its status (pending, paid, failed, cancelled, refunding, refunded)."""
    return service.of_dossier(caller, dossier_id)


@router.post("/api/payments/{provider}/notify", response_model=NoticeTaken,
             summary="The gateway's notice, server to server (signed)",
             responses={422: {"description": "Forged, malformed, unknown or wrong amount"}})
def notify(provider: ProviderName, _: Gateway, service: Service,
           params: Annotated[dict[str, str], Body(max_length=20)]) -> NoticeTaken:
    """Believed for its signature; the same notice again changes nothing."""
    _known(service.provider, provider)
    return _taken(service.take(params))


@router.get("/api/payments/{provider}/return", summary="The payer's browser back from the "
            "gateway, with its signed notice: on to the dossier")
def came_back(provider: ProviderName, _: Gateway, service: Service,
              request: Request) -> RedirectResponse:
    """The same notice as the server's (whichever comes first moves the payment)."""
    _known(service.provider, provider)
    done = service.take(dict(request.query_params))
    return RedirectResponse(f"/#/dossiers/{done.payment.dossier_id}?payment="
                            f"{done.payment.status}", status_code=303)
