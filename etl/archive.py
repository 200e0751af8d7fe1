"""Unpacking uploaded archives as if each were an attack: every entry is checked before anything
is written (paths, links, sizes, ratios, counts), and the bytes actually read are counted too."""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from etl.readers.base import ReaderError


class ArchiveError(ReaderError):
    """The archive is refused as a whole; nothing of it was kept."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what an archive may unpack to."""

    max_entries: int = 2_000
    max_total_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0  # uncompressed / compressed, for entries above 1 MB
    ratio_floor_bytes: int = 1024**2


CHUNK = 1024 * 1024


def _safe_name(name: str) -> PurePosixPath:
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"entry {name!r} has an absolute or Windows path")
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or not path.parts:
        raise ArchiveError(f"entry {name!r} climbs out of the archive")
    return path


def check(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """The file entries, after every entry passed; raises on the first bad one."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveError(f"the archive has {len(infos)} entries (at most "
                           f"{limits.max_entries})")
    total = 0
    files = []
    for info in infos:
        _safe_name(info.filename.rstrip("/") if info.is_dir() else info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveError(f"entry {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"entry {info.filename!r} is encrypted")
        if info.is_dir():
            continue
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ArchiveError("the archive unpacks to more than "
                               f"{limits.max_total_bytes // 1024**2} MB")
        if (info.file_size > limits.ratio_floor_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise ArchiveError(f"entry {info.filename!r} expands {info.file_size} bytes from "
                               f"{info.compress_size}: refused as a zip bomb")
        files.append(info)
    return files


def extract(path: Path, dest: Path, limits: ArchiveLimits | None = None) -> list[Path]:
    """Unpack a zip into dest (a fresh folder), or refuse it whole; returns the files."""
    limits = limits or ArchiveLimits()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{path.name}: not a readable zip archive") from exc
    with archive:
        files = check(archive, limits)
        written: list[Path] = []
        total = 0
        for info in files:
            target = dest.joinpath(*_safe_name(info.filename).parts)
            if not target.resolve().is_relative_to(dest.resolve()):
                raise ArchiveError(f"entry {info.filename!r} climbs out of the archive")
            target.parent.mkdir(parents=True, exist_ok=True)
            declared = info.file_size
            count = 0
            try:
                with archive.open(info) as source, open(target, "xb") as out:
                    while chunk := source.read(CHUNK):
                        count += len(chunk)
                        total += len(chunk)
                        # A header may lie: the bytes read are held to what it declared.
                        if count > declared or total > limits.max_total_bytes:
                            raise ArchiveError(f"entry {info.filename!r} is larger than its "
                                               "header says")
                        out.write(chunk)
            except FileExistsError:
                raise ArchiveError(f"entry {info.filename!r} appears twice") from None
            except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
                raise ArchiveError(f"entry {info.filename!r} cannot be unpacked ({exc})") \
                    from None
            written.append(target)
        return written
