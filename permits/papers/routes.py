"""HTTP routes of a dossier's papers (the circular's forms as PDFs)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Request, Response

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.routing import Router
from permits.papers.repository import PaperRepository
from permits.papers.service import PaperService
from permits.repository import DossierRepository

router = Router(prefix="/api/dossiers/{dossier_id}/papers", tags=["dossiers"])

Reader = Annotated[Principal, Depends(authorize("dossier.read"))]
DossierId = Annotated[int, Path(ge=1, le=2**62)]
Form = Annotated[Literal["01", "02", "03", "04"],
                 Path(description="01 receipt, 02 supplement request, 03 refusal, 04 apology")]
# The paper names the applicant: no shared cache keeps it, and it is saved, never shown inline.
PAPER_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


async def _service(conn: ConnectionDep, request: Request) -> PaperService:
    return PaperService(PaperRepository(conn), DossierRepository(conn),
                        request.app.state.settings.fonts_dir)


Service = Annotated[PaperService, Depends(_service)]


def _origin(request: Request) -> str:
    """This server as the applicant reached it (as permits.routes builds its links)."""
    return str(request.base_url).rstrip("/")


@router.get("/{form}", response_class=Response,
            summary="A form its moves wrote, as a PDF: receipt (01), supplement request (02), "
                    "refusal (03), apology with a new date (04)",
            responses={200: {"content": {"application/pdf": {}}},
                       404: {"description": "No such dossier for you, or it has no such form "
                                            "yet: the message names the form"}})
def paper(dossier_id: DossierId, form: Form, caller: Reader, service: Service,
          request: Request) -> Response:
    """As the latest move that wrote the form left it, with a QR code of the public status
    page (the dossier's code only)."""
    code, pdf = service.form(caller, dossier_id, form, _origin(request))
    return Response(pdf, media_type="application/pdf", headers={
        **PAPER_HEADERS, "Content-Disposition": f'attachment; filename="{code}-mau-{form}.pdf"'})
