"""The officers' work calendar: the department's meetings and one's own inspections (with a
place on the map) and leave, beside the deadlines of one's queue; as a list for the app and as
an iCalendar feed a phone's calendar subscribes to (a secret URL, revocable)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import icalendar

from accounts.policy import Grant, Principal, check
from core.errors import InvalidInputError, NotFoundError
from permits.feedback.repository import FeedbackRepository
from permits.office.repository import OfficeRepository
from permits.office.service import OfficeService
from permits.office.workflow import WORK

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
FEED_DAYS_BACK, FEED_DAYS_AHEAD = 30, 120
KINDS = ("meeting", "inspection", "leave")


def feed_hash(token: str) -> str:
    """What is kept of a feed's secret."""
    return hashlib.sha256(f"calendar-feed:{token}".encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One line of the calendar: an event, or a deadline from the queue."""

    kind: str  # meeting | inspection | leave | deadline
    title: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    place: str
    lon: float | None
    lat: float | None
    ref: str  # a unique id: "event-12", "dossier-7"


def _departments(grants: Any) -> list[str]:
    return sorted({g.department for g in grants if g.department})


class CalendarService:
    """Meetings, inspections, leave and deadlines, of one officer."""

    def __init__(self, repository: OfficeRepository) -> None:
        self.repo = repository

    def add(self, principal: Principal, kind: str, title: str, starts_at: datetime,
            ends_at: datetime, scope: Literal["mine", "department"], place: str,
            lon: float | None, lat: float | None) -> int:
        """An entry of one's own, or (a leader's) of the whole department."""
        check(principal, WORK)
        if kind not in KINDS:
            raise InvalidInputError(f"kind is one of {', '.join(KINDS)}", "kind")
        if ends_at <= starts_at:
            raise InvalidInputError("it ends before it starts", "ends_at")
        values: dict[str, Any] = {"kind": kind, "title": title.strip(), "starts_at": starts_at,
                                  "ends_at": ends_at, "place": place.strip(),
                                  "created_by": principal.person_id}
        if scope == "department":
            check(principal, "office.assign")  # leaders set the department's meetings
            values["department"] = _departments(principal.grants)[0]
        else:
            values["person_id"] = principal.person_id
        if lon is not None and lat is not None:
            if FeedbackRepository(self.repo.conn).ward_at(lon, lat) is None:
                raise InvalidInputError("the place is outside the district", "lat")
            values["geom"] = f"SRID=4326;POINT({lon} {lat})"
        return self.repo.add_event(values)

    def entries(self, principal: Principal, first: date, last: date) -> list[Entry]:
        """Events and deadlines between two days (both included), in time order."""
        check(principal, WORK)
        if last < first or (last - first).days > 366:
            raise InvalidInputError("a window of at most a year, ending after it starts",
                                    "to")
        assert principal.person_id is not None
        start = datetime.combine(first, time(), VIETNAM)
        end = datetime.combine(last + timedelta(days=1), time(), VIETNAM)
        found = [Entry(r.kind, r.title, r.starts_at, r.ends_at, False, r.place, r.lon, r.lat,
                       f"event-{r.id}")
                 for r in self.repo.events(principal.person_id,
                                           _departments(principal.grants), start, end)]
        for item in OfficeService(self.repo).queue(principal, 5000):
            due = item.row.due_on
            if due is None or not first <= due <= last:
                continue
            what = item.row.label or item.row.title
            day = datetime.combine(due, time(), VIETNAM)
            found.append(Entry("deadline", f"Hạn: {what} — {item.row.title}"
                               if item.row.label else f"Hạn: {what}", day,
                               day + timedelta(days=1), True, item.row.ward or "",
                               item.row.lon, item.row.lat, f"{item.row.kind}-{item.row.id}"))
        return sorted(found, key=lambda e: (e.starts_at, e.ref))

    def new_feed(self, principal: Principal) -> str:
        """A new secret for the person's feed (the old URL stops working); shown once."""
        check(principal, WORK)
        assert principal.person_id is not None
        token = secrets.token_urlsafe(24)
        self.repo.new_feed(principal.person_id, feed_hash(token))
        return token

    def revoke_feed(self, principal: Principal) -> None:
        """The person's feed URL opens nothing any more."""
        check(principal, WORK)
        assert principal.person_id is not None
        self.repo.revoke_feeds(principal.person_id)

    def feed(self, token: str) -> bytes:
        """The iCalendar of the feed's owner: a month back, four ahead."""
        owner = self.repo.feed_owner(feed_hash(token))
        if owner is None:
            raise NotFoundError("no calendar feed at this address", "token")
        grants = tuple(Grant(r.role, r.department, tuple(r.wards or ()))
                       for r in self.repo.grants_of(owner))
        principal = Principal(person_id=owner, grants=grants, via="token")
        today_ = datetime.now(VIETNAM).date()
        cal = icalendar.Calendar()
        cal.add("prodid", "-//civicmap//Lịch công tác//VI")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", "Lịch công tác")
        cal.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
        stamp = datetime.now(UTC)
        for entry in self.entries(principal, today_ - timedelta(days=FEED_DAYS_BACK),
                                  today_ + timedelta(days=FEED_DAYS_AHEAD)):
            event = icalendar.Event()
            event.add("uid", f"{entry.ref}@civicmap")
            event.add("dtstamp", stamp)
            event.add("summary", entry.title)
            if entry.all_day:
                event.add("dtstart", entry.starts_at.date())
                event.add("dtend", entry.ends_at.date())
            else:
                event.add("dtstart", entry.starts_at)
                event.add("dtend", entry.ends_at)
            if entry.place:
                event.add("location", entry.place)
            if entry.lon is not None and entry.lat is not None:
                event.add("geo", (entry.lat, entry.lon))
            event.add("categories", [entry.kind])
            cal.add_component(event)
        return bytes(cal.to_ical())
