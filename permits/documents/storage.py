"""Documents' files on disk, outside the web root, named by their content's hash:
`<files>/sha256/ab/cd/<hash>`. A file is written to a temporary file in the store's own
folder (`tmp/`, the same file system), fsynced, then renamed into place, before its row is
inserted: a crash between the two leaves an orphan file, never a row without its file. The
sweep removes the orphans (and stale temporary files) once they are an hour old.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection

from permits.documents.repository import claim_file, referenced

log = logging.getLogger(__name__)
CHUNK = 1024 * 1024
HASH_NAME = re.compile(r"^[0-9a-f]{64}$")
SWEEP_AFTER = timedelta(hours=1)
BATCH = 1000


class FileStore:
    """The store's folders and the one way files get into them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hashed = root / "sha256"
        self.tmp = root / "tmp"

    def path_of(self, digest: str) -> Path:
        """Where the file with this SHA-256 lives (the hash checked: it becomes a path)."""
        if not HASH_NAME.match(digest):
            raise ValueError("not a SHA-256 in hex")
        return self.hashed / digest[:2] / digest[2:4] / digest

    @contextmanager
    def scratch(self) -> Iterator[Scratch]:
        """Temporary files for one upload, every one of them gone at the end."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        scratch = Scratch(self.tmp)
        try:
            yield scratch
        finally:
            scratch.clear()

    def place(self, src: Path, digest: str) -> Path:
        """Move a finished temporary file (of this hash) into place, durably: the file and
        its folder fsynced. A file already there stays, made young again so that the sweep
        leaves it alone; the caller holds the hash's lock meanwhile (`DocumentRepository.keep`)."""
        target = self.path_of(digest)
        if target.exists():
            os.utime(target)
            src.unlink()
            return target
        with open(src, "rb") as f:
            os.fsync(f.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, target)
        _fsync_dir(target.parent)
        return target


def digest_of(path: Path) -> str:
    """The file's SHA-256, in hex."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class Scratch:
    """Temporary files in the store's `tmp/`, removed by `clear` (whatever was not placed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: list[Path] = []

    def new(self, suffix: str = "") -> Path:
        """A fresh empty file (0600)."""
        fd, name = tempfile.mkstemp(dir=self.folder, prefix="part-", suffix=suffix)
        os.close(fd)
        path = Path(name)
        self.paths.append(path)
        return path

    def receive(self, stream: BinaryIO, limit: int) -> tuple[Path, int] | None:
        """Copy an upload into a new temporary file, counting as it goes; None (and nothing
        kept) as soon as it passes `limit` bytes."""
        path = self.new()
        size = 0
        with open(path, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    out.close()
                    path.unlink(missing_ok=True)
                    return None
                out.write(chunk)
        return path, size

    def clear(self) -> None:
        """Remove every temporary file left."""
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths.clear()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class SweepReport:
    """What a sweep did."""

    removed: int = 0  # orphan files
    kept: int = 0  # old enough, but a row needs them (or an upload is placing them)
    temporary: int = 0  # stale temporary files


def sweep(conn: Connection, store: FileStore, older_than: timedelta = SWEEP_AFTER,
          now: float | None = None) -> SweepReport:
    """Remove the files no row needs that are older than `older_than`, and temporary files
    as old. Each removal holds the file's lock (an upload placing the same content waits,
    then writes it again) and looks at the rows once more under it."""
    cutoff = (time.time() if now is None else now) - older_than.total_seconds()
    report = SweepReport()
    for path in (store.tmp.iterdir() if store.tmp.is_dir() else ()):
        if path.is_file() and path.lstat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            report.temporary += 1
    old = {p.name: p for p in store.hashed.glob("??/??/*")
           if HASH_NAME.match(p.name) and p.is_file() and p.lstat().st_mtime < cutoff}
    names = sorted(old)
    for start in range(0, len(names), BATCH):
        batch = names[start:start + BATCH]
        needed = referenced(conn, batch)
        report.kept += len(needed)
        for digest in batch:
            if digest in needed:
                continue
            path = old[digest]
            if not claim_file(conn, digest) or referenced(conn, [digest]) \
                    or path.lstat().st_mtime >= cutoff:
                report.kept += 1
                continue
            path.unlink(missing_ok=True)
            report.removed += 1
    if report.removed or report.temporary:
        log.info("document sweep: %d orphan and %d temporary files removed",
                 report.removed, report.temporary)
    return report
