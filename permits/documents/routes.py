"""HTTP routes of a dossier's documents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, File, Form, Path, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.routing import Router
from permits.documents.repository import DocumentRepository
from permits.documents.scan import Scanner, scanner_for
from permits.documents.schemas import DocumentPublic, DocumentSpec
from permits.documents.service import DocumentService
from permits.documents.storage import FileStore
from permits.repository import DossierRepository

router = Router(prefix="/api/dossiers/{dossier_id}/documents", tags=["dossiers"])

Reader = Annotated[Principal, Depends(authorize("dossier.read"))]
Editor = Annotated[Principal, Depends(authorize("dossier.edit"))]
DossierId = Annotated[int, Path(ge=1, le=2**62)]
DocumentId = Annotated[int, Path(ge=1, le=2**62)]
# A file is data to save, never a page: nothing in it may run, even opened in a tab.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                    "Content-Security-Policy": "default-src 'none'; sandbox; "
                                               "frame-ancestors 'none'"}
REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The dossier is not a draft, nor asked for a supplement"},
    413: {"description": "Larger than the document's limit (or than any document's)"},
    415: {"description": "The content is not of a type the document accepts"},
    422: {"description": "Not a document of the procedure; a hostile or broken file; the "
                         "virus scan refused it: the message names the document"},
    503: {"description": "The virus scanner does not answer: try again later"},
}


async def get_scanner(request: Request) -> Scanner:
    """The scanner the settings name (a dependency, so that it can be swapped)."""
    return scanner_for(request.app.state.settings)


async def _service(conn: ConnectionDep, request: Request,
             scanner: Annotated[Scanner, Depends(get_scanner)]) -> DocumentService:
    settings = request.app.state.settings
    return DocumentService(DocumentRepository(conn), DossierRepository(conn),
                           FileStore(settings.file_dir), scanner,
                           settings.document_max_mb * 1024**2)


Service = Annotated[DocumentService, Depends(_service)]


def _view(row: Any, spec: DocumentSpec | None) -> DocumentPublic:
    return DocumentPublic(
        id=row.id, key=row.doc_key, name_vi=spec.vi if spec else row.doc_key,
        name_en=spec.en if spec else row.doc_key, file_name=row.file_name,
        content_type=row.content_type, size_bytes=row.size_bytes, sha256=row.sha256,
        uploaded_at=row.uploaded_at, for_event_id=row.for_event_id)


@router.post("", status_code=201, response_model=DocumentPublic, responses=REFUSALS,
             summary="Attach a file to one of the procedure's documents (my draft, or a "
                     "supplement asked for)")
def upload(dossier_id: DossierId, caller: Editor, service: Service,
           key: Annotated[str, Form(pattern=r"^[a-z][a-z0-9_]{0,39}$",
                                    description="The procedure's document key")],
           file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, as the document "
                                                        "accepts")]) -> Response:
    """Judged by its content; images are written again without EXIF; 200 (not 201) when the
    same content was already attached to this document."""
    row, spec, created = service.upload(caller, dossier_id, key, file.filename or "", file.file)
    return JSONResponse(_view(row, spec).model_dump(mode="json"),
                        status_code=201 if created else 200)


@router.get("", response_model=list[DocumentPublic], summary="The files of a dossier")
def list_documents(dossier_id: DossierId, caller: Reader,
                   service: Service) -> list[DocumentPublic]:
    """Oldest first, each with the document it answers."""
    return [_view(row, spec) for row, spec in service.list(caller, dossier_id)]


@router.get("/{document_id}", response_class=FileResponse,
            summary="The bytes of one file (a download, never shown as a page)",
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {},
                                         "image/png": {}}}})
def download(dossier_id: DossierId, document_id: DocumentId, caller: Reader,
             service: Service) -> FileResponse:
    """As an attachment, with its sniffed type."""
    row, path = service.file(caller, dossier_id, document_id)
    return FileResponse(path, media_type=row.content_type, filename=row.file_name,
                        content_disposition_type="attachment", headers=DOWNLOAD_HEADERS)


@router.delete("/{document_id}", status_code=204, summary="Take a file off my draft")
def remove(dossier_id: DossierId, document_id: DocumentId, caller: Editor,
           service: Service) -> Response:
    """Its file goes with the sweep once no other document has the same content."""
    service.remove(caller, dossier_id, document_id)
    return Response(status_code=204)
