"""HTTP route of a dossier's signed result: a download for whoever may read the dossier."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.responses import FileResponse

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.routing import Router
from permits.documents.storage import FileStore
from permits.repository import DossierRepository
from permits.results.service import ResultService

router = Router(prefix="/api/dossiers", tags=["dossiers"])
Reader = Annotated[Principal, Depends(authorize("dossier.read"))]
DossierId = Annotated[int, Path(ge=1, le=2**62)]


async def _service(conn: ConnectionDep, request: Request) -> ResultService:
    return ResultService(DossierRepository(conn), FileStore(request.app.state.settings.file_dir))


Service = Annotated[ResultService, Depends(_service)]


@router.get("/{dossier_id}/result", response_class=FileResponse,
            summary="The dossier's result (the permit, the certificate) as a signed PDF",
            responses={200: {"content": {"application/pdf": {}}},
                       404: {"description": "No result yet"}})
def result(dossier_id: DossierId, caller: Reader, service: Service) -> FileResponse:
    """Signed so that a PDF reader verifies it; its SHA-256 is on the public status page."""
    dossier, found, path = service.file(caller, dossier_id)
    return FileResponse(path, media_type="application/pdf",
                        filename=f"{dossier.code}-ket-qua.pdf",
                        headers={"Cache-Control": "private, no-store",
                                 "ETag": f'"{found.sha256}"'})
