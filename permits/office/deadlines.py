"""The deadline an incoming document sets its recipient, read from its text: "trước ngày
20/12/2026", "chậm nhất ngày 5 tháng 1 năm 2027", "trong thời hạn 10 ngày làm việc" (counted
from the day it was issued, as the office counts). Read without diacritics, so that a text typed
without them says the same; of several dates the earliest still to come wins (it presses)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from layers.text import normalize_search

# The words that put a date as a limit ("trước ngày", "chậm nhất là ngày", "hạn chót", "không
# quá ngày", "đến hết ngày"), then the date as 20/12/2026, 20-12-2026 or "20 tháng 12 năm 2026".
ABSOLUTE = re.compile(
    r"\b(?:truoc|cham nhat|han chot|han cuoi|thoi han|han|khong qua|den het)\s*:?\s*(?:la\s+)?"
    r"(?:ngay\s+)?(\d{1,2})\s*(?:[/.-]|\s+thang\s+)(\d{1,2})\s*(?:[/.-]|\s+nam\s+)(\d{4})\b")
# "trong (thời hạn | vòng) 10 ngày (làm việc)".
RELATIVE = re.compile(r"\btrong\s+(?:thoi\s+han\s+|vong\s+)?(\d{1,3})\s+ngay(\s+lam\s+viec)?\b")
# (from, days, "working" | "calendar") → the last day, as permits.clock.Clock.due counts.
Due = Callable[[date, int, str], date]


def deadline_in(text: str, issued_on: date, due: Due) -> date | None:
    """The earliest limit the text names on or after the day it was issued, or None."""
    plain = normalize_search(text)
    found: list[date] = []
    for match in ABSOLUTE.finditer(plain):
        day, month, year = (int(g) for g in match.groups())
        try:
            found.append(date(year, month, day))
        except ValueError:  # 31/02: not a date, not a deadline
            continue
    for match in RELATIVE.finditer(plain):
        days = int(match[1])
        if days:
            found.append(due(issued_on, days, "working" if match[2] else "calendar"))
    coming = [d for d in found if d >= issued_on]
    return min(coming) if coming else None
