"""The register of official documents (văn bản đến / văn bản đi): entries by hand or imported
from the district's document system through a source adapter (CSV first), each linked to the
dossiers and parcels its text names; searched without diacritics. The deadline an incoming
document's text sets becomes the officer's task when they confirm it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from accounts.policy import Principal, Subject, check, reach, workflow_actor
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.workflow import create
from permits.clock import Clock
from permits.documents import sniff
from permits.documents.repository import DocumentRepository
from permits.documents.scan import Scanner
from permits.documents.service import checked_file, display_name
from permits.documents.storage import FileStore, digest_of
from permits.office.deadlines import deadline_in
from permits.office.repository import OfficeRepository
from permits.office.workflow import TASK, WORK
from permits.workflow import today

DIRECTIONS = ("incoming", "outgoing")
URGENCIES = ("normal", "urgent", "very_urgent", "flash")
DOSSIER_CODE = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}\b")
PARCEL_KEY = re.compile(r"(?<!\d)\d{12}(?!\d)")
FIELDS = ("direction", "number", "symbol", "issued_on", "issuer", "summary", "doc_type",
          "urgency", "body_text")
MAX_IMPORT_ROWS = 5000
# A register entry's file: the document as a PDF, or its scan as an image.
FILE_TYPES, FILE_MB = (sniff.PDF, sniff.JPEG, sniff.PNG), 50


class DocumentSource(Protocol):
    """The district's existing document system, read entry by entry."""

    name: str

    def entries(self) -> Iterator[tuple[int, Mapping[str, str]]]:
        """(line, fields) of each entry."""


class CsvSource:
    """An export of the document system: a UTF-8 CSV with a header of FIELDS (a BOM allowed);
    dates as YYYY-MM-DD or DD/MM/YYYY."""

    name = "csv"

    def __init__(self, data: bytes) -> None:
        try:
            self.text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError("the CSV is not UTF-8", "file") from exc

    def entries(self) -> Iterator[tuple[int, Mapping[str, str]]]:
        """Each line after the header."""
        reader = csv.DictReader(io.StringIO(self.text))
        missing = [f for f in FIELDS[:7] if f not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInputError(f"the CSV's header lacks {', '.join(missing)}", "file")
        for row in reader:
            yield reader.line_num, row


def _day(text: str, line: int) -> date:
    for shape in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), shape).date()
        except ValueError:
            continue
    raise InvalidInputError(f"line {line}: issued_on {text!r} is not a date", "issued_on")


@dataclass
class Imported:
    """What an import did."""

    added: int = 0
    skipped: int = 0  # already in the register
    linked: list[tuple[int, str, str]] = field(default_factory=list)


class DocumentService:
    """The department's register."""

    def __init__(self, repository: OfficeRepository) -> None:
        self.repo = repository
        self.clock = Clock(repository.conn)  # one for an import's rows: it caches calendars

    def _department(self, principal: Principal) -> str:
        department = principal.department("officer", "leader")
        if department is None:
            check(principal, WORK, Subject(department="-"))  # refused, as the policy says
        assert department is not None
        return department

    def _checked(self, fields: Mapping[str, Any], line: int) -> dict[str, Any]:
        where = f"line {line}: " if line else ""
        values: dict[str, Any] = {k: str(fields.get(k) or "").strip() for k in FIELDS}
        values["urgency"] = values["urgency"] or "normal"
        for name in FIELDS:  # no column keeps it (a JSON body's is refused before the route)
            if "\x00" in values[name]:
                raise InvalidInputError(f"{where}{name} holds a NUL character", name)
        for name in FIELDS[:7]:
            if not values[name]:
                raise InvalidInputError(f"{where}{name} is empty", name)
        if values["direction"] not in DIRECTIONS:
            raise InvalidInputError(f"{where}direction is incoming or outgoing", "direction")
        if values["urgency"] not in URGENCIES:
            raise InvalidInputError(f"{where}urgency is one of {', '.join(URGENCIES)}",
                                    "urgency")
        for name, most in (("number", 40), ("symbol", 80), ("doc_type", 40)):
            if len(values[name]) > most:
                raise InvalidInputError(f"{where}{name} is longer than {most}", name)
        issued = fields.get("issued_on")
        values["issued_on"] = issued if isinstance(issued, date) else _day(str(issued), line)
        return values

    def _deadline(self, values: Mapping[str, Any], department: str) -> date | None:
        """The limit an incoming document's text sets, counted as the department counts."""
        if values["direction"] != "incoming":
            return None
        return deadline_in(f"{values['summary']} {values['body_text']}", values["issued_on"],
                           lambda start, days, kind: self.clock.due(start, days, kind,
                                                                    department))

    def take_on(self, principal: Principal, document_id: int, due_on: date | None,
                title: str | None) -> int:
        """The document's deadline (the one its text sets, or the officer's) as the officer's
        own task, with the queue's reminders; linked to the document. The task's number."""
        # Locked first: two officers taking the same document on at once make one task.
        document = self._entry(principal, document_id, lock=True)
        if any(link["kind"] == "task" for link in document.links):
            raise ConflictError("the document has its task already", "document_id")
        due = due_on or document.deadline_on
        if due is None:
            raise InvalidInputError("the document names no deadline: give due_on", "due_on")
        if due < today():
            raise InvalidInputError("the due date has passed", "due_on")
        values = {"title": (title or f"{document.symbol}: {document.summary}")[:300].strip(),
                  "description": f"{document.doc_type} số {document.number} ngày "
                                 f"{document.issued_on:%d/%m/%Y} của {document.issuer}",
                  "department": document.department, "due_on": due,
                  "assignee_id": principal.person_id, "created_by": principal.person_id}

        def subject(r: Mapping[str, Any]) -> Subject:
            return Subject(owner_id=r["assignee_id"], department=r["department"])
        made = create(self.repo.conn, TASK, "take_on", workflow_actor(principal, subject),
                      values, note=f"Từ văn bản {document.symbol}")
        self.repo.link(document_id, "task", str(made.row_id), False)
        return int(made.row_id)

    def _entry(self, principal: Principal, document_id: int, lock: bool = False) -> Any:
        """An entry of a register the caller works in (404 otherwise), locked if asked."""
        if lock:
            self.repo.lock_document(document_id)
        found = self.repo.documents(self._registers(principal), None, None, None, 1, 0,
                                    document_id)
        if not found:
            raise NotFoundError("no document of your register has this number", "document_id")
        return found[0]

    def attach(self, principal: Principal, document_id: int, file_name: str,
               stream: BinaryIO, store: FileStore, scanner: Scanner) -> Any:
        """The entry's file (the document itself, scanned or signed), checked as every upload
        is and kept by its hash; it replaces the one before. The entry."""
        document = self._entry(principal, document_id, lock=True)
        with store.scratch() as scratch:
            kept, kind = checked_file(scratch, f"document {document.symbol}", FILE_TYPES,
                                      FILE_MB * 1024**2, stream, scanner)
            digest = digest_of(kept)
            size = DocumentRepository(self.repo.conn).keep(store, kept, digest)
        self.repo.set_file(document_id, digest, kind, size,
                           display_name(file_name, kind, "van-ban"))
        return self._entry(principal, document_id)

    def file(self, principal: Principal, document_id: int, store: FileStore
             ) -> tuple[Any, Path]:
        """The entry's file and where it is kept."""
        self._entry(principal, document_id)
        found = self.repo.file_of(document_id)
        path = None if found is None else store.path_of(found.file_sha256)
        if path is None or not path.is_file():
            raise NotFoundError("the document has no file", "document_id")
        return found, path

    def _link(self, document_id: int, values: Mapping[str, Any]) -> list[tuple[int, str, str]]:
        text = f"{values['summary']} {values['body_text']}"
        codes, parcels = self.repo.existing(sorted(set(DOSSIER_CODE.findall(text))),
                                            sorted(set(PARCEL_KEY.findall(text))))
        linked = [(document_id, "dossier", c) for c in sorted(codes)] + \
            [(document_id, "parcel", p) for p in sorted(parcels)]
        for _, kind, ref in linked:
            self.repo.link(document_id, kind, ref, True)
        return linked

    def add(self, principal: Principal, fields: Mapping[str, Any]) -> int:
        """One entry by hand; linked to the dossiers and parcels its text names."""
        department = self._department(principal)
        values = self._checked(fields, 0)
        document_id = self.repo.add_document({
            **values, "department": department, "created_by": principal.person_id,
            "deadline_on": self._deadline(values, department)})
        if document_id is None:
            raise InvalidInputError("the register holds this number on that day", "number")
        self._link(document_id, values)
        return document_id

    def load(self, principal: Principal, source: DocumentSource) -> Imported:
        """Every entry of the source, checked first: one bad line refuses the file (naming
        the line) and nothing is written; entries already in the register are skipped."""
        department = self._department(principal)
        checked: list[dict[str, Any]] = []
        for line, fields in source.entries():
            if len(checked) >= MAX_IMPORT_ROWS:
                raise InvalidInputError(f"at most {MAX_IMPORT_ROWS} entries a file", "file")
            checked.append(self._checked(fields, line))
        done = Imported()
        for values in checked:
            document_id = self.repo.add_document({
                **values, "department": department, "created_by": principal.person_id,
                "source": source.name, "deadline_on": self._deadline(values, department)})
            if document_id is None:
                done.skipped += 1
                continue
            done.added += 1
            done.linked += self._link(document_id, values)
        return done

    def search(self, principal: Principal, query: str | None, year: int | None,
               direction: str | None, limit: int, offset: int) -> list[Any]:
        """The register of the departments the caller reaches."""
        return self.repo.documents(self._registers(principal), (query or "").strip() or None,
                                   year, direction, limit, offset)

    def _registers(self, principal: Principal) -> list[str] | None:
        """The departments whose register the caller works in (None: every one)."""
        check(principal, WORK)
        reached = reach(principal, WORK)
        return None if reached.everything else sorted(
            {*reached.departments, *(d for d, _ in reached.department_wards)})
