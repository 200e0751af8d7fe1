"""HTTP routes of citizen feedback: categories, sending and confirming a report, and what the
public sees of reports (the map's list)."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, File, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from accounts.auth import authorize, authorize_or_holder, caller
from accounts.policy import Principal
from accounts.ratelimit import CODE_SEND, FEEDBACK_DEVICE, FEEDBACK_SEND, RateLimiter
from core.deps import ConnectionDep, IfMatch, side_transaction
from core.errors import NotFoundError
from core.idempotency import IdempotencyDep
from core.notify import OutboxNotifier
from core.routing import Router
from permits.documents.storage import FileStore
from permits.feedback.photos import PhotoService
from permits.feedback.repository import FeedbackRepository
from permits.feedback.schemas import (
    CategoryPublic,
    CategoryUpdate,
    ConfirmIn,
    FloodAction,
    FloodPublic,
    PhotoLink,
    PhotoPublic,
    ReportAction,
    ReportEvent,
    ReportIn,
    ReportPublic,
    ReportSent,
    ReportStaff,
)
from permits.feedback.service import FeedbackService, Reporter, category_etag
from permits.feedback.workflow import FEEDBACK, FLOOD
from permits.workflow import today

router = Router(prefix="/api/feedback", tags=["feedback"])
Anyone = Annotated[Principal, Depends(authorize("feedback.report"))]
Reader = Annotated[Principal, Depends(authorize("public.read"))]
# Each move's own policy action decides (the engine asks it): a signed-in person is enough here.
Someone = Annotated[Principal, Depends(authorize("account.self"))]
Editor = Annotated[Principal, Depends(authorize("feedback.categories"))]
# The same, or an anonymous reporter holding their report's token (the service checks it).
Mover = Annotated[Principal, Depends(authorize_or_holder("account.self", "X-Report-Token"))]
ReportId = Annotated[int, Path(ge=1, le=2**62)]
ReportToken = Annotated[str | None, Header(alias="X-Report-Token", max_length=64)]
NEARBY_M, NEARBY_CLOSED_DAYS = 50, 30


async def _service(conn: ConnectionDep, request: Request) -> FeedbackService:
    return FeedbackService(FeedbackRepository(conn), OutboxNotifier(conn),
                           request.app.state.server_key)


Service = Annotated[FeedbackService, Depends(_service)]


def _public(row: Any, events: Sequence[Any] = ()) -> ReportPublic:
    late = row.due_on is not None and row.status != "closed" and row.due_on < today()
    return ReportPublic.model_validate({**row._mapping, "late": late, "events": [
        ReportEvent.model_validate(e, from_attributes=True) for e in events],
        "photos": _photo_links(row)})


@router.get("/categories", response_model=list[CategoryPublic],
            summary="The categories (1022's), each with its department and response time")
def categories(_: Reader, service: Service) -> list[CategoryPublic]:
    """What a report can be about."""
    return [CategoryPublic.model_validate(c, from_attributes=True)
            for c in service.repo.categories()]


@router.patch("/categories/{category}", response_model=CategoryPublic,
              summary="Change where a category goes and its response time (If-Match)",
              responses={412: {"description": "If-Match is stale"},
                         428: {"description": "If-Match is missing"}})
def edit_category(category: Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,39}$")],
                  body: CategoryUpdate, principal: Editor, service: Service,
                  if_match: IfMatch = None) -> Response:
    """Reports sent from now on follow the change; those already sent keep their deadline."""
    row = service.edit_category(category, if_match, body.department, body.response_days,
                                principal.person_id)
    view = CategoryPublic.model_validate(row, from_attributes=True)
    return JSONResponse(view.model_dump(mode="json"),
                        headers={"ETag": category_etag(view.code, view.version)})


@router.post("", status_code=201, response_model=ReportSent,
             summary="Send a report (Idempotency-Key); anonymous ones wait for their code")
def send(body: ReportIn, _: Anyone, service: Service, idem: IdempotencyDep,
         request: Request, conn: ConnectionDep,
         device: Annotated[str | None, Header(alias="X-Device-Id", max_length=64,
                                              description="The app's random id")] = None
         ) -> Response:
    """The department always sees who reported; the public sees the name only when allowed.
    Rate-limited per address, per device and per phone or e-mail."""
    address = request.client.host if request.client else ""
    counted = [(FEEDBACK_SEND, address)]
    if device:
        counted.append((FEEDBACK_DEVICE, device))
    if body.phone or body.email:
        counted.append((CODE_SEND, body.phone or body.email or ""))
    with side_transaction(request.app) as side:
        limits = RateLimiter(side)
        for rule, key in counted:
            limits.check(rule, key)
        for rule, key in counted:
            limits.hit(rule, key)

    def made() -> Response:
        token = secrets.token_urlsafe(24)
        row, needs_code = service.send(
            caller(request, conn), body.category, body.description, body.lon, body.lat,
            Reporter(body.name, body.phone, body.email, body.show_name), body.parcel_key, token,
            body.joins)
        sent = ReportSent(id=row.id, status=row.status, needs_code=needs_code,
                          upload_token=token if needs_code else None)
        return JSONResponse(sent.model_dump(mode="json"), status_code=201)
    return idem.answer(made)


@router.post("/{report_id}/photos", status_code=201, response_model=PhotoPublic,
             summary="Add a photo to my report (JPEG or PNG; its EXIF is removed)",
             responses={404: {"description": "Not a report of yours"},
                        409: {"description": "Five photos already, or the report is closed"},
                        413: {"description": "Larger than 10 MB"}})
def photo(report_id: ReportId, _: Anyone, conn: ConnectionDep, request: Request,
          file: Annotated[UploadFile, File(description="JPEG or PNG")],
          token: ReportToken = None) -> PhotoPublic:
    """From the reporter's account, or with the report's upload token."""
    store = FileStore(request.app.state.settings.file_dir)
    row = PhotoService(conn, store, request.app.state.queue).add(
        caller(request, conn), report_id, token, file.file)
    return PhotoPublic.model_validate(row, from_attributes=True)


@router.post("/{report_id}/confirm", response_model=ReportPublic,
             summary="Give back the one-time code: the report is received, and public")
def confirm(report_id: ReportId, body: ConfirmIn, _: Anyone, service: Service) -> ReportPublic:
    """A wrong code changes nothing; an expired one asks for a new report."""
    service.confirm(report_id, body.code)
    return _public(*service.public(report_id))


@router.get("/nearby", response_model=list[ReportPublic],
            summary="Before sending: reports of the same kind within 50 m (open, or closed in "
            "the last 30 days)")
def nearby(_: Reader, service: Service, category: Annotated[str, Query(max_length=40)],
           lon: Annotated[float, Query(ge=-180, le=180)],
           lat: Annotated[float, Query(ge=-90, le=90)]) -> list[ReportPublic]:
    """The nearest first: the reporter may add their voice instead of a duplicate."""
    return [_public(r) for r in service.repo.nearby(lon, lat, category, NEARBY_M,
                                                    NEARBY_CLOSED_DAYS)]


@router.get("/mine", response_model=list[ReportPublic], summary="My reports, newest first")
def mine(principal: Someone, service: Service,
         limit: Annotated[int, Query(ge=1, le=200)] = 50,
         offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> list[ReportPublic]:
    """The signed-in citizen's own reports (as anyone sees them)."""
    assert principal.person_id is not None
    return [_public(r) for r in service.repo.mine(principal.person_id, limit, offset)]


@router.get("/floods", response_model=list[FloodPublic],
            summary="A day's flood events: its flood reports grouped by area")
def floods(_: Reader, service: Service,
           day: Annotated[date | None, Query(description="Default: today")] = None
           ) -> list[FloodPublic]:
    """Each with its area and how many reports it groups."""
    return [FloodPublic.model_validate(f, from_attributes=True)
            for f in service.repo.floods(day or today())]


@router.get("/floods/{flood_id}", response_model=FloodPublic,
            summary="One flood event, with its ETag (for closing it)",
            responses={404: {"description": "No such flood event"}})
def flood(flood_id: ReportId, _: Reader, service: Service) -> Response:
    """Its area, its status, how many reports it groups."""
    row = service.repo.flood(flood_id)
    if row is None:
        raise NotFoundError("no flood event has this number", "flood_id")
    view = FloodPublic.model_validate(row, from_attributes=True)
    return JSONResponse(view.model_dump(mode="json"),
                        headers={"ETag": FLOOD.etag(view.id, view.version),
                                 "Cache-Control": "no-cache"})


@router.post("/floods/{flood_id}/actions", response_model=FloodPublic,
             summary="Close a flood event (If-Match): everyone who reported it hears so",
             responses={409: {"description": "Already closed"},
                        412: {"description": "If-Match is stale"}})
def flood_act(flood_id: ReportId, body: FloodAction, principal: Someone, service: Service,
              if_match: IfMatch = None) -> Response:
    """The department's officers of its ward."""
    row = service.close_flood(principal, flood_id, if_match, body.note)
    view = FloodPublic.model_validate(row, from_attributes=True)
    return JSONResponse(view.model_dump(mode="json"),
                        headers={"ETag": FLOOD.etag(view.id, view.version)})


EXPORTED = ("id", "category", "category_vi", "status", "closing", "referred_to",
            "duplicate_of", "voices", "created_at", "due_on", "late", "closed_at", "ward_code",
            "parcel_key", "lon", "lat", "reporter_name", "description")


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/export.{ext}", summary="Reports anyone may see, as CSV or GeoJSON (open data)",
            responses={200: {"content": {"text/csv": {}, "application/geo+json": {}}}})
def export(ext: Literal["csv", "geojson"], _: Reader, service: Service,
           bbox: Annotated[str | None, Query(pattern=r"^-?[\d.]+(,-?[\d.]+){3}$")] = None,
           category: Annotated[str | None, Query(max_length=40)] = None,
           open_only: bool = False) -> Response:
    """The same public columns as the list (no contact; a name only when allowed; a hidden
    description empty), at most 10 000 reports, newest first."""
    box = tuple(float(v) for v in bbox.split(",")) if bbox else None
    rows = [_public(r).model_dump(mode="json") for r in service.repo.public_list(
        box, category, open_only, 10_000, 0)]  # type: ignore[arg-type]
    name = f"phan-anh-{today():%Y%m%d}.{ext}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if ext == "geojson":
        features = [{"type": "Feature", "id": r["id"],
                     "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                     "properties": {k: r[k] for k in EXPORTED if k not in ("lon", "lat")}}
                    for r in rows]
        return JSONResponse({"type": "FeatureCollection", "features": features},
                            media_type="application/geo+json", headers=disposition)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORTED)
    writer.writerows([_cell(r[k]) for k in EXPORTED] for r in rows)
    # A BOM, so that spreadsheets read the Vietnamese as UTF-8.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=disposition)


@router.get("", response_model=list[ReportPublic], summary="Reports anyone may see")
def reports(_: Reader, service: Service,
            bbox: Annotated[str | None, Query(pattern=r"^-?[\d.]+(,-?[\d.]+){3}$")] = None,
            category: Annotated[str | None, Query(max_length=40)] = None,
            open_only: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 100,
            offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> list[ReportPublic]:
    """Confirmed reports, newest first (bbox: west,south,east,north)."""
    box = tuple(float(v) for v in bbox.split(",")) if bbox else None
    return [_public(r) for r in service.repo.public_list(
        box, category, open_only, limit, offset)]  # type: ignore[arg-type]


def _answer(service: FeedbackService, report_id: int, principal: Principal | None = None,
            token: str | None = None) -> Response:
    view = _public(*service.public(report_id, principal, token))
    # Its reporter's copy holds the questions asked of them: not for shared caches.
    return JSONResponse(view.model_dump(mode="json"), headers={
        "ETag": FEEDBACK.etag(view.id, view.version), "Vary": "Cookie, X-Report-Token",
        "Cache-Control": "private, no-cache"})


@router.get("/{report_id}", response_model=ReportPublic, summary="One report, as anyone sees it")
def report(report_id: ReportId, _: Reader, service: Service, request: Request,
           conn: ConnectionDep, token: ReportToken = None) -> Response:
    """With its public moves and the department's answers, and its ETag; its reporter
    (signed in, or with X-Report-Token) sees too the questions asked of them."""
    return _answer(service, report_id, caller(request, conn), token)


@router.post("/{report_id}/actions", response_model=ReportPublic,
             summary="Move a report: the department's moves (If-Match), the reporter's own",
             responses={409: {"description": "Not from its status, or a guard refused"},
                        412: {"description": "If-Match is stale"}})
def act(report_id: ReportId, body: ReportAction, principal: Mover, service: Service,
        if_match: IfMatch = None, token: ReportToken = None) -> Response:
    """assign, start, ask, answer, close (with its reason), hide, show for officers; reply,
    reopen (within 30 days of the closing), rate for the reporter: signed in, or with the
    X-Report-Token the report's answer gave."""
    service.act(principal, report_id, body.action, if_match, body.note, body.facts(), token)
    return _answer(service, report_id, principal, token)


@router.get("/{report_id}/staff", response_model=ReportStaff,
            summary="What the department sees of a report: its reporter, every move")
def staff(report_id: ReportId, principal: Someone, service: Service) -> Response:
    """Officers of its department in its ward, leaders of its department."""
    seen = service.staff(principal, report_id)
    row, buildable = seen["row"], seen["buildable"]
    floors = buildable.floors_max if buildable is not None else None
    view = ReportStaff.model_validate({
        **row._mapping, "public": _public(seen["report"]) if seen["report"] else None,
        "events": [e._mapping for e in seen["events"]],
        "voices": [v._mapping for v in seen["voices"]],
        "parcel_dossiers": [d._mapping for d in seen["parcel_dossiers"]],
        "floors_max": int(floors.value) if floors is not None else None})
    return JSONResponse(view.model_dump(mode="json"),
                        headers={"ETag": FEEDBACK.etag(row.id, row.version),
                                 "Cache-Control": "private, no-store"})


PhotoId = Annotated[int, Path(ge=1, le=2**62)]
# A photo is an image to show, never a page: nothing in it may run, even opened in a tab.
PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'; sandbox"}
# The public copy at its URL never changes (it is written once); a day bounds how long a
# cache keeps one whose report moderation hides later.
PUBLIC_PHOTO_CACHE = "public, max-age=86400, immutable"
PHOTO_TYPES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}}},
    404: {"description": "No such photo, not public (yet), or not yours"}}


def _photo_links(row: Any) -> list[PhotoLink]:
    ids = row._mapping.get("photo_ids") or ()
    return [PhotoLink(id=i, url=f"/api/feedback/{row.id}/photos/{i}") for i in ids]


def _photos(conn: ConnectionDep, request: Request) -> PhotoService:
    return PhotoService(conn, FileStore(request.app.state.settings.file_dir))


Photos = Annotated[PhotoService, Depends(_photos)]


@router.get("/{report_id}/photos/{photo_id}", response_class=FileResponse,
            summary="A photo of a public report, faces and number plates blurred",
            responses={**PHOTO_TYPES, 304: {"description": "Not modified (If-None-Match)"}})
def public_photo(report_id: ReportId, photo_id: PhotoId, _: Reader, photos: Photos,
                 if_none_match: Annotated[str | None, Header(max_length=200)] = None
                 ) -> Response:
    """Anyone's: the copy the queue wrote (404 until then); its ETag is its SHA-256."""
    row, path = photos.public_file(report_id, photo_id)
    etag = f'"{row.sha256}"'
    headers = {**PHOTO_HEADERS, "Cache-Control": PUBLIC_PHOTO_CACHE, "ETag": etag}
    if if_none_match is not None and etag in (t.strip() for t in if_none_match.split(",")):
        return Response(status_code=304, headers=headers)
    return FileResponse(path, media_type=row.content_type, headers=headers)


@router.get("/{report_id}/photos/{photo_id}/original", response_class=FileResponse,
            summary="A photo as it was sent (without its EXIF): the department and the reporter",
            responses=PHOTO_TYPES)
def original_photo(report_id: ReportId, photo_id: PhotoId, principal: Mover, photos: Photos,
                   token: ReportToken = None) -> FileResponse:
    """Officers of the report's department (feedback.handle), its reporter signed in or with
    the X-Report-Token the report's answer gave; never cached."""
    row, path = photos.original_file(principal, report_id, photo_id, token)
    return FileResponse(path, media_type=row.content_type, headers={
        **PHOTO_HEADERS, "Cache-Control": "private, no-store", "ETag": f'"{row.sha256}"'})
