"""HTTP routes of the officers' office: the queue, assignments, tasks."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep, IfMatch
from core.errors import InvalidInputError, NotFoundError
from core.routing import Router
from permits.documents.routes import DOWNLOAD_HEADERS, get_scanner
from permits.documents.scan import Scanner
from permits.documents.storage import FileStore
from permits.office.calendar import VIETNAM, CalendarService
from permits.office.documents import CsvSource, DocumentService
from permits.office.forecast import Forecast
from permits.office.report import ReportService
from permits.office.repository import OfficeRepository
from permits.office.schemas import (
    Assigned,
    AssignmentIn,
    CalendarEntry,
    DocumentIn,
    DocumentPublic,
    DocumentsImported,
    EventIn,
    FeedOut,
    ForecastOut,
    ItemRisk,
    Notice,
    NoticesRead,
    OfficerLoad,
    QueueItem,
    Reassignment,
    ReportIn,
    ReportPublic,
    Stats,
    StatsRow,
    TakeOn,
    TaskAction,
    TaskEvent,
    TaskIn,
    TaskPublic,
)
from permits.office.service import OfficeService
from permits.office.stats import STATS, XLSX, figures, period, xlsx
from permits.office.workflow import TASK

router = Router(prefix="/api/office", tags=["office"])
FILE_REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No entry of your register has this number"},
    413: {"description": "Larger than 50 MB"},
    415: {"description": "Not a PDF, JPEG or PNG by its content"},
    422: {"description": "A hostile or broken file, or the virus scan refused it"},
    503: {"description": "The virus scanner does not answer: try again later"},
}
Worker = Annotated[Principal, Depends(authorize("office.work"))]
Leader = Annotated[Principal, Depends(authorize("office.assign"))]
Counting = Annotated[Principal, Depends(authorize(STATS))]
Reader = Annotated[Principal, Depends(authorize("public.read"))]
TaskId = Annotated[int, Path(ge=1, le=2**62)]
DocumentId = Annotated[int, Path(ge=1, le=2**62)]
ReportId = Annotated[int, Path(ge=1, le=2**62)]


async def _service(conn: ConnectionDep) -> OfficeService:
    return OfficeService(OfficeRepository(conn))


Service = Annotated[OfficeService, Depends(_service)]


@router.get("/queue", response_model=list[QueueItem],
            summary="My queue: dossiers, feedback and tasks, the most urgent first")
def queue(principal: Worker, service: Service,
          limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Response:
    """Given to me, or to my department in my wards (a leader: the whole department):
    overdue, due today, due within two working days, later, no deadline yet."""
    return Response(service.queue_json(principal, limit), media_type="application/json",
                    headers={"Cache-Control": "private, no-store"})


@router.get("/notices", response_model=list[Notice],
            summary="My notices (the app's list): reminders, assignments, newest first")
def notices(principal: Worker, service: Service, unread: bool = False) -> list[Notice]:
    """The last 100; `unread` for those not yet marked read."""
    assert principal.person_id is not None
    return [Notice.model_validate(r, from_attributes=True)
            for r in service.repo.notices(principal.person_id, unread)]


@router.post("/notices/read", status_code=204, summary="Mark my notices read (up to an id)")
def read_notices(body: NoticesRead, principal: Worker, service: Service) -> Response:
    """Every notice of mine up to `up_to` is read."""
    assert principal.person_id is not None
    service.repo.read_notices(principal.person_id, body.up_to)
    return Response(status_code=204)


@router.post("/assignments", response_model=Assigned,
             summary="Give a dossier, a report or a task to an officer (If-Match)",
             responses={412: {"description": "If-Match is stale"}})
def assign(body: AssignmentIn, principal: Leader, service: Service,
           if_match: IfMatch = None) -> Response:
    """A leader, within their department; the officer hears of it; an event of the item."""
    fired = service.assign(principal, body.kind, body.id, body.assignee_id, if_match,
                           body.note)
    view = Assigned(kind=body.kind, id=body.id, assignee_id=body.assignee_id, etag=fired.etag)
    return JSONResponse(view.model_dump(mode="json"), headers={"ETag": fired.etag})


def _task(service: OfficeService, task_id: int) -> Response:
    row = service.repo.task(task_id)
    if row is None:
        raise NotFoundError(f"no task {task_id}", "task_id")
    view = TaskPublic.model_validate({**row._mapping, "events": [
        TaskEvent.model_validate(e, from_attributes=True)
        for e in service.repo.task_events(task_id)]})
    return JSONResponse(view.model_dump(mode="json"),
                        headers={"ETag": TASK.etag(view.id, view.version)})


@router.post("/tasks", status_code=201, response_model=TaskPublic,
             summary="A free task for an officer of my department (or for the department)")
def create_task(body: TaskIn, principal: Leader, service: Service) -> Response:
    """Title, description, due date, a place on the map; the assignee hears of it."""
    made = service.create_task(principal, body.title, body.description, body.due_on,
                               body.assignee_id, body.lon, body.lat, body.note)
    answer = _task(service, made.row_id)
    answer.status_code = 201
    return answer


@router.get("/tasks/{task_id}", response_model=TaskPublic, summary="One task, its moves")
def task(task_id: TaskId, principal: Worker, service: Service) -> Response:
    """For whoever may work on it."""
    service.reached(principal, task_id)
    return _task(service, task_id)


@router.post("/tasks/{task_id}/actions", response_model=TaskPublic,
             summary="Complete, cancel or reopen a task (If-Match)",
             responses={409: {"description": "Not from its status"},
                        412: {"description": "If-Match is stale"}})
def act_on_task(task_id: TaskId, body: TaskAction, principal: Worker, service: Service,
                if_match: IfMatch = None) -> Any:
    """Its officer completes it; its leader cancels or reopens it."""
    service.act_on_task(principal, task_id, body.action, if_match, body.note)
    return _task(service, task_id)


@router.post("/reports", status_code=201, response_model=ReportPublic,
             summary="Make the workload and feedback-density map of a period (HTML)")
def make_report(body: ReportIn, principal: Counting, service: Service) -> ReportPublic:
    """Open work per ward and the period's reports, over the district map; made again, it
    replaces the one before. Its page loads nothing from outside the platform."""
    made = ReportService(service.repo).make(principal, body.department, body.period)
    return _report(service.repo.report(made.id))


@router.get("/reports", response_model=list[ReportPublic],
            summary="The map reports I may open, newest first")
def reports(principal: Counting, service: Service) -> list[ReportPublic]:
    """A leader's department's; an administrator's, every one."""
    return [_report(r) for r in ReportService(service.repo).list(principal)]


@router.get("/reports/{report_id}", response_class=HTMLResponse,
            summary="A map report's page (deck.gl over our own map)")
def report_page(report_id: ReportId, principal: Counting, service: Service) -> HTMLResponse:
    """Shared by its link with whoever may read its department's figures."""
    return HTMLResponse(ReportService(service.repo).page(principal, report_id),
                        headers={"Cache-Control": "private, no-store"})


def _report(row: Any) -> ReportPublic:
    return ReportPublic(id=row.id, kind=row.kind, period=row.period,
                        department=row.department, made_at=row.made_at,
                        url=f"/api/office/reports/{row.id}")


@router.get("/stats", response_model=Stats,
            summary="On-time figures of a period, from the events (JSON or CSV)",
            responses={200: {"content": {"text/csv": {}}}})
def stats(principal: Counting, conn: ConnectionDep,
          period_: Annotated[str | None, Query(alias="period", max_length=7,
                                               examples=["2026-H1", "2026-Q2", "2026-06"])
                             ] = None,
          first: Annotated[date | None, Query(alias="from")] = None,
          last: Annotated[date | None, Query(alias="to")] = None,
          group: Literal["field", "procedure", "ward", "officer", "department"] = "procedure",
          fmt: Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")] = "json"
          ) -> Response:
    """Received, handled, on time, late, overdue and the on-time rate, per group: a month, a
    quarter, a half year or from/to."""
    if period_ is not None:
        first, last = period(period_)
    if first is None or last is None:
        raise InvalidInputError("give a period, or from and to", "period")
    found = figures(conn, principal, first, last, group)
    view = Stats(first=first, last=last, group=group, **{
        kind: [StatsRow(**row.__dict__, rate=row.rate, said=row.said) for row in rows]
        for kind, rows in found.items()})
    if fmt == "json":
        return JSONResponse(view.model_dump(mode="json"))
    columns = list(StatsRow.model_fields)
    rows = [[kind, *(getattr(row, c) for c in columns)]
            for kind in ("dossiers", "feedback") for row in getattr(view, kind)]
    name = f"thong-ke-{first:%Y%m%d}-{last:%Y%m%d}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "xlsx":
        return Response(xlsx(f"{first:%d/%m/%Y}–{last:%d/%m/%Y}", ["kind", *columns], rows),
                        media_type=XLSX, headers=disposition)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", *columns])
    writer.writerows(rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=disposition)


@router.get("/documents", response_model=list[DocumentPublic],
            summary="The register of official documents: search without diacritics")
def documents(principal: Worker, service: Service,
              q: Annotated[str | None, Query(max_length=200, examples=["quy hoach"])] = None,
              year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
              direction: Literal["incoming", "outgoing"] | None = None,
              limit: Annotated[int, Query(ge=1, le=200)] = 50,
              offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> list[DocumentPublic]:
    """The best match first when searched, else the newest; with what each is about."""
    rows = DocumentService(service.repo).search(principal, q, year, direction, limit, offset)
    return [DocumentPublic.model_validate(r, from_attributes=True) for r in rows]


@router.post("/documents", status_code=201, response_model=DocumentPublic,
             summary="Enter a document in my department's register")
def add_document(body: DocumentIn, principal: Worker, service: Service) -> DocumentPublic:
    """The dossiers and parcels its text names are linked to it."""
    documents_ = DocumentService(service.repo)
    document_id = documents_.add(principal, body.model_dump())
    found = service.repo.documents(None, None, None, None, 1, 0, document_id)
    return DocumentPublic.model_validate(found[0], from_attributes=True)


@router.post("/documents/{document_id}/task", status_code=201, response_model=TaskPublic,
             summary="Take on an incoming document's deadline as my task (with reminders)",
             responses={409: {"description": "The document has its task already"}})
def take_on(document_id: DocumentId, body: TakeOn,
            principal: Worker, service: Service) -> Response:
    """The date its text sets, or `due_on`; the task is linked to the document."""
    task_id = DocumentService(service.repo).take_on(principal, document_id, body.due_on,
                                                    body.title)
    answer = _task(service, task_id)
    answer.status_code = 201
    return answer


@router.put("/documents/{document_id}/file", response_model=DocumentPublic,
            summary="Attach the document's file (a PDF, or its scan as JPEG or PNG)",
            responses=FILE_REFUSALS)
def attach_file(document_id: DocumentId, principal: Worker, service: Service, request: Request,
                scanner: Annotated[Scanner, Depends(get_scanner)],
                file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, ≤ 50 MB")]
                ) -> DocumentPublic:
    """Checked as every upload is (its type by its content, its structure, the virus scan);
    it replaces the file the entry had."""
    row = DocumentService(service.repo).attach(
        principal, document_id, file.filename or "", file.file,
        FileStore(request.app.state.settings.file_dir), scanner)
    return DocumentPublic.model_validate(row, from_attributes=True)


@router.get("/documents/{document_id}/file", response_class=FileResponse,
            summary="The document's file (a download, never shown as a page)",
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {},
                                         "image/png": {}}}})
def document_file(document_id: DocumentId, principal: Worker, service: Service,
                  request: Request) -> FileResponse:
    """As an attachment, with its sniffed type."""
    found, path = DocumentService(service.repo).file(
        principal, document_id, FileStore(request.app.state.settings.file_dir))
    return FileResponse(path, media_type=found.file_type, filename=found.file_name,
                        content_disposition_type="attachment", headers=DOWNLOAD_HEADERS)


@router.post("/documents/import", response_model=DocumentsImported,
             summary="Import the register from the document system's CSV export")
def import_documents(principal: Worker, service: Service,
                     file: Annotated[UploadFile, File(description="UTF-8 CSV")]
                     ) -> DocumentsImported:
    """One bad line refuses the file, naming it, and nothing is written; entries already in
    the register are skipped."""
    data = file.file.read(20 * 1024**2 + 1)
    if len(data) > 20 * 1024**2:
        raise InvalidInputError("the CSV is larger than 20 MB", "file")
    done = DocumentService(service.repo).load(principal, CsvSource(data))
    return DocumentsImported(added=done.added, skipped=done.skipped, links=len(done.linked))


@router.get("/calendar", response_model=list[CalendarEntry],
            summary="My calendar: meetings, inspections, leave and my queue's deadlines")
def calendar(principal: Worker, service: Service,
             first: Annotated[date, Query(alias="from")],
             last: Annotated[date, Query(alias="to")]) -> list[CalendarEntry]:
    """Both days included (a week view asks for seven), in time order."""
    return [CalendarEntry.model_validate(e, from_attributes=True)
            for e in CalendarService(service.repo).entries(principal, first, last)]


@router.post("/calendar", status_code=201, response_model=list[CalendarEntry],
             summary="Add a meeting, an inspection or leave")
def add_event(body: EventIn, principal: Worker, service: Service) -> list[CalendarEntry]:
    """One's own; a leader's `department` scope puts a meeting in everyone's calendar.
    Answers that day's calendar."""
    calendars = CalendarService(service.repo)
    calendars.add(principal, body.kind, body.title, body.starts_at, body.ends_at, body.scope,
                  body.place, body.lon, body.lat)
    day = body.starts_at.astimezone(VIETNAM).date()
    return [CalendarEntry.model_validate(e, from_attributes=True)
            for e in calendars.entries(principal, day, day)]


@router.post("/calendar/feed", response_model=FeedOut,
             summary="A secret iCalendar address for my phone's calendar (revokes the old)")
def new_feed(principal: Worker, service: Service, request: Request) -> FeedOut:
    """Shown once: whoever holds the address reads the calendar."""
    token = CalendarService(service.repo).new_feed(principal)
    return FeedOut(url=str(request.url_for("calendar_feed", token=token)))


@router.delete("/calendar/feed", status_code=204, summary="Revoke my calendar's address")
def revoke_feed(principal: Worker, service: Service) -> Response:
    """The address opens nothing any more."""
    CalendarService(service.repo).revoke_feed(principal)
    return Response(status_code=204)


@router.get("/calendar/feed/{token}.ics", name="calendar_feed",
            summary="An officer's calendar as iCalendar (the address is the key)",
            responses={200: {"content": {"text/calendar": {}}}})
def calendar_feed(token: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")], _: Reader,
                  service: Service) -> Response:
    """A month back and four ahead; revoked or unknown addresses are 404."""
    return Response(CalendarService(service.repo).feed(token),
                    media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


@router.get("/forecast", response_model=ForecastOut,
            summary="Leaders: each open item's chance of running late, and better hands")
def forecast(principal: Leader, service: Service) -> ForecastOut:
    """From the working days left, the officer's queue ahead and pace, and their leave; a
    suggestion is accepted by sending it as an assignment."""
    officers, risks, suggestions = Forecast(service.repo).run(principal)
    return ForecastOut(
        officers=[OfficerLoad(person_id=o.person_id, name=o.name, open=o.open,
                              pace=round(o.pace, 2), leave_days=len(o.leave))
                  for o in officers],
        items=[ItemRisk(kind=r.item.row.kind, id=r.item.row.id, etag=r.item.etag,
                        label=r.item.row.label, title=r.item.row.title,
                        due_on=r.item.row.due_on, working_days_left=r.item.working_days_left,
                        assignee_id=r.item.row.assignee_id, chance=round(r.chance, 3))
               for r in sorted(risks, key=lambda r: -r.chance)],
        suggestions=[Reassignment(kind=s.item.row.kind, id=s.item.row.id, etag=s.item.etag,
                                  from_id=s.item.row.assignee_id, to_id=s.to,
                                  chance_now=round(s.now, 3), chance_after=round(s.after, 3))
                     for s in suggestions])
