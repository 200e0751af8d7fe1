"""Rules of a dossier's documents: who may attach, read and remove them, and the checks a file
passes before it is kept (its type by content, its size, its structure, the virus scan)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from pathlib import Path
from typing import Any, BinaryIO

from accounts.policy import Principal
from core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    TooLargeError,
    UnsupportedTypeError,
)
from permits.documents import sniff
from permits.documents.repository import DocumentRepository
from permits.documents.scan import Scanner
from permits.documents.schemas import DocumentSpec
from permits.documents.storage import FileStore, Scratch, digest_of
from permits.repository import DossierRepository
from permits.service import reached
from permits.workflow import DossierStatus

# The applicant attaches while drafting, and again when the office asks for a supplement.
OPEN_FOR_FILES = (DossierStatus.DRAFT, DossierStatus.SUPPLEMENT_REQUESTED)
NAME_LONGEST = 120
KNOWN_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png")
UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def display_name(sent: str, kind: str, key: str) -> str:
    """The name the file came with, for display only: its last part, printable, short, with
    the extension its content has."""
    base = unicodedata.normalize("NFC", sent.replace("\\", "/").rsplit("/", 1)[-1])
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = UNSAFE_IN_NAMES.sub("_", base).strip(" ._") or key
    stem, dot, extension = base.rpartition(".")
    if not (dot and stem) or f".{extension.lower()}" not in KNOWN_EXTENSIONS:
        stem = base  # "plan.sh" that is a PDF is "plan.sh.pdf"
    wanted = sniff.EXTENSIONS[kind]
    return stem[:NAME_LONGEST - len(wanted)] + wanted


def checked_file(scratch: Scratch, what: str, types: Collection[str], limit: int,
                 stream: BinaryIO, scanner: Scanner) -> tuple[Path, str]:
    """An upload as it will be kept, and its sniffed type: within `limit` bytes, of one of
    `types` by its content, no polyglot, a PDF without active content, an image re-encoded
    without its metadata, past the virus scan; refusals (422, 413, 415) name `what`."""
    received = scratch.receive(stream, limit)
    if received is None:
        raise TooLargeError(f"{what}: the file is larger than {limit // 1024**2} MB", "file")
    path, size = received
    if size == 0:
        raise InvalidInputError(f"{what}: the file is empty", "file")
    kind = sniff.content_type(path)
    if kind is None or kind not in types:
        accepted = ", ".join(sniff.EXTENSIONS.get(t, t).lstrip(".").upper() for t in types)
        raise UnsupportedTypeError(
            f"{what}: the file's content is not of an accepted type ({accepted})", "file")
    problem = sniff.polyglot(path)
    if problem is None and kind == sniff.PDF:
        problem = sniff.pdf_problem(path)
    if problem is None and kind != sniff.PDF:
        cleaned = scratch.new(sniff.EXTENSIONS[kind])
        problem = sniff.clean_image(path, kind, cleaned)
        path = cleaned
    if problem is not None:
        raise InvalidInputError(f"{what}: {problem}", "file")
    found = scanner.scan(path)
    if found is not None:
        raise InvalidInputError(f"{what}: the virus scan refused the file ({found})", "file")
    return path, kind


class DocumentService:
    """Attaching, listing, reading and removing a dossier's files."""

    def __init__(self, repository: DocumentRepository, dossiers: DossierRepository,
                 store: FileStore, scanner: Scanner, max_bytes: int) -> None:
        self.repo = repository
        self.dossiers = dossiers
        self.store = store
        self.scanner = scanner
        self.max_bytes = max_bytes

    def _dossier(self, principal: Principal, action: str, dossier_id: int,
                 lock: bool = False) -> Any:
        return reached(self.dossiers, principal, action, dossier_id, lock)

    def _specs(self, procedure_id: str) -> dict[str, DocumentSpec]:
        return {s.key: s for s in (DocumentSpec.model_validate(d)
                                   for d in self.repo.requirements(procedure_id))}

    def upload(self, principal: Principal, dossier_id: int, key: str, file_name: str,
               stream: BinaryIO) -> tuple[Any, DocumentSpec, bool]:
        """Check the file and keep it for the document `key`; (row, spec, created). The same
        content sent again for the same document answers the row it made the first time."""
        assert principal.person_id is not None
        dossier = self._dossier(principal, "dossier.edit", dossier_id)
        _open_for_files(dossier)
        spec = self._specs(dossier.procedure_id).get(key)
        if spec is None:
            raise InvalidInputError(f"the procedure asks for no document {key!r}", "key")
        with self.store.scratch() as scratch:
            kept, kind = self._checked(scratch, spec, stream)
            digest = digest_of(kept)
            dossier = self._dossier(principal, "dossier.edit", dossier_id, lock=True)
            _open_for_files(dossier)  # still, now that the file is checked and the row locked
            same = self.repo.same(dossier_id, key, digest)
            if same is not None:
                return same, spec, False
            size = self.repo.keep(self.store, kept, digest)
        for_event = (self.repo.supplement_request(dossier_id)
                     if dossier.status == DossierStatus.SUPPLEMENT_REQUESTED else None)
        row = self.repo.add(dossier_id, key, digest, kind, size,
                            display_name(file_name, kind, key), principal.person_id, for_event)
        return row, spec, True

    def _checked(self, scratch: Scratch, spec: DocumentSpec,
                 stream: BinaryIO) -> tuple[Path, str]:
        """The file as it will be kept, and its type; refusals name the document."""
        return checked_file(scratch, f"{spec.key} ({spec.vi})", spec.types,
                            min(spec.max_mb * 1024**2, self.max_bytes), stream, self.scanner)

    def list(self, principal: Principal,
             dossier_id: int) -> list[tuple[Any, DocumentSpec | None]]:
        """The files attached to a dossier the principal may see, with the document each
        answers (None: one the procedure no longer lists)."""
        dossier = self._dossier(principal, "dossier.read", dossier_id)
        specs = self._specs(dossier.procedure_id)
        return [(row, specs.get(row.doc_key)) for row in self.repo.of_dossier(dossier_id)]

    def file(self, principal: Principal, dossier_id: int,
             document_id: int) -> tuple[Any, Path]:
        """One attached file and where its bytes are."""
        self._dossier(principal, "dossier.read", dossier_id)
        row = self.repo.get(dossier_id, document_id)
        if row is None:
            raise NotFoundError("no such document in this dossier", "document_id")
        path = self.store.path_of(row.sha256)
        if not path.is_file():
            raise NotFoundError("the file of this document is missing", "document_id")
        return row, path

    def remove(self, principal: Principal, dossier_id: int, document_id: int) -> None:
        """Take a file off one's own draft."""
        dossier = self._dossier(principal, "dossier.edit", dossier_id, lock=True)
        if dossier.status != DossierStatus.DRAFT:
            raise ConflictError("files can be removed only from a draft", "status")
        if self.repo.get(dossier_id, document_id) is None:
            raise NotFoundError("no such document in this dossier", "document_id")
        self.repo.remove(document_id)


def _open_for_files(dossier: Any) -> None:
    if dossier.status not in OPEN_FOR_FILES:
        raise ConflictError("files can be attached only to a draft, or when the office asks "
                            "for a supplement", "status")

