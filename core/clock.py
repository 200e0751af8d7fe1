"""The platform's clock: the time now, or a moment pinned for a block of work.

The sample's half year is lived through the services this way: each move is made on its own
day, and the workflow engine writes that moment in its events and stamps (with no moment
pinned it writes the database's `now()`, the transaction's time).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_PINNED: ContextVar[datetime | None] = ContextVar("civicmap_pinned_now", default=None)


def pinned() -> datetime | None:
    """The moment pinned, or None while the clock runs."""
    return _PINNED.get()


def now() -> datetime:
    """The time, aware."""
    return _PINNED.get() or datetime.now(UTC)


def today() -> date:
    """Today in Vietnam (the office's days)."""
    return now().astimezone(VIETNAM).date()


@contextmanager
def pinned_at(moment: datetime) -> Iterator[None]:
    """Within the block, the clock says `moment` (an aware datetime)."""
    if moment.tzinfo is None:
        raise ValueError("pin an aware moment")
    token = _PINNED.set(moment)
    try:
        yield
    finally:
        _PINNED.reset(token)
