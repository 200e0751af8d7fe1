"""A dossier's result made and handed over: its paper, signed, checked, kept in the document
store by its hash (before the move that issues it records it), and downloaded by whoever
may read the dossier."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from accounts.policy import Principal
from core.errors import NotFoundError, UnavailableError
from core.settings import Settings
from permits.documents.repository import DocumentRepository
from permits.documents.storage import FileStore
from permits.papers.service import result_paper, status_url
from permits.repository import DossierRepository
from permits.results.signing import ResultSigner, sha256_hex, signer_for, trust_roots, verify
from permits.service import reached

LOCATION = "Thành phố Hồ Chí Minh"


@dataclass(frozen=True)
class ResultFile:
    """A signed result in the store, for the move that issues it to record."""

    sha256: str
    size: int
    signer: str


class ResultMaker:
    """Makes results: the paper from its template, signed, its signature checked against the
    roots it must chain to (a result that would not verify is never issued), then placed."""

    def __init__(self, conn: Connection, store: FileStore, signer: ResultSigner,
                 settings: Settings) -> None:
        self.conn, self.store, self.signer, self.settings = conn, store, signer, settings

    def make(self, dossier: Any, result_no: str, origin: str) -> ResultFile:
        """The dossier's result numbered `result_no`, signed and in the store."""
        paper = result_paper(self.conn, dossier, status_url(origin, dossier.code),
                             result_no=result_no, fonts_dir=self.settings.fonts_dir)
        signed = self.signer.sign(paper, reason=f"Kết quả giải quyết hồ sơ {dossier.code}",
                                  location=LOCATION)
        check = verify(signed, trust_roots(self.settings))
        if not check.valid:
            raise UnavailableError("the result's signature does not verify: it was not issued",
                                   "result_no")
        digest = sha256_hex(signed)
        with self.store.scratch() as scratch:
            kept = scratch.new(".pdf")
            kept.write_bytes(signed)
            DocumentRepository(self.conn).keep(self.store, kept, digest)
        return ResultFile(digest, len(signed), check.signer)


_SIGNERS: dict[tuple[object, ...], ResultSigner] = {}


def kept_signer(settings: Settings) -> ResultSigner:
    """The settings' signer, made once per process: making one reads its key (~40 ms)."""
    key = (settings.signing_identity_dir, settings.signing_service_url,
           settings.signing_credential_id)
    if key not in _SIGNERS:
        _SIGNERS[key] = signer_for(settings)
    return _SIGNERS[key]


class LazyResultMaker:
    """A maker whose signer is found only when a result is made (most moves make none)."""

    def __init__(self, conn: Connection, settings: Settings) -> None:
        self.conn, self.settings = conn, settings

    def make(self, dossier: Any, result_no: str, origin: str) -> ResultFile:
        """As ResultMaker.make, with the settings' store and kept signer."""
        return ResultMaker(self.conn, FileStore(self.settings.file_dir),
                           kept_signer(self.settings), self.settings
                           ).make(dossier, result_no, origin)


class ResultService:
    """The signed result of a dossier, for its applicant and its staff."""

    def __init__(self, dossiers: DossierRepository, store: FileStore) -> None:
        self.dossiers, self.store = dossiers, store

    def file(self, principal: Principal, dossier_id: int) -> tuple[Any, Any, Path]:
        """The dossier, its result's record and where the signed file is."""
        dossier = reached(self.dossiers, principal, "dossier.read", dossier_id)
        found = self.dossiers.conn.exec_driver_sql(
            "SELECT result_no, sha256, size_bytes, signer, signed_at FROM dossier_result "
            "WHERE dossier_id = %(d)s", {"d": dossier_id}).first()
        if found is None:
            raise NotFoundError("the dossier has no result yet", "dossier_id")
        path = self.store.path_of(found.sha256)
        if not path.is_file():
            raise NotFoundError("the result's file is missing", "dossier_id")
        return dossier, found, path
