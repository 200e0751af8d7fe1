"""HTTP manners shared by every package: content codings and pre-compressed copies."""

from __future__ import annotations

from pathlib import Path as Path


def packed_copy(path: Path, accepted: set[str]) -> tuple[str, Path] | None:
    """The pre-compressed copy of a file (built beside it) in the smallest coding accepted."""
    for coding, suffix in (("br", ".br"), ("gzip", ".gz")):  # the smaller first
        packed = path.with_name(path.name + suffix)
        if coding in accepted and packed.is_file():
            return coding, packed
    return None


def accepted_codings(accept_encoding: str) -> set[str]:
    """The content codings a client accepts (those it lists without q=0)."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(coding.strip())
    return accepted
