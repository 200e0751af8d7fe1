"""Rules of feedback reports: where a report may be, who sent it (an account, or a phone or
e-mail confirmed by a one-time code), the department and deadline its category routes it to,
and what the public sees of it (never the reporter's contact; the name only when allowed)."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from accounts.policy import Principal, Subject, workflow_actor
from core.errors import InvalidInputError, NotFoundError
from core.notify import Notifier
from core.workflow import NOW, Actor, create, fire
from permits.clock import Clock
from permits.feedback.photos import token_hash
from permits.feedback.repository import FeedbackRepository
from permits.feedback.workflow import FEEDBACK, ReportStatus
from permits.workflow import today

CODE_MINUTES = 30
PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
# Whoever holds the code: the code is the authority (it went only to the reporter's phone).
BY_CODE = Actor(None, authorize=lambda action, row: None)


@dataclass(frozen=True)
class Reporter:
    """Who sends a report: a signed-in person, or a name with a phone or an e-mail."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    show_name: bool = False


def _subject(row: Mapping[str, Any]) -> Subject | None:
    """What the policy needs of a report: its reporter, department and ward."""
    if "status" not in row:  # a creation: the action alone
        return None
    return Subject(owner_id=row["reporter_id"], department=row["department"],
                   ward=row["ward_code"])


def _normalised_phone(phone: str) -> str:
    digits = re.sub(r"[\s.-]", "", phone)
    if not PHONE.match(digits):
        raise InvalidInputError("a Vietnamese phone number, such as 0901234567", "phone")
    return "+84" + digits[1:] if digits.startswith("0") else digits


class FeedbackService:
    """Reports of citizens, routed to the departments that answer them."""

    def __init__(self, repository: FeedbackRepository, notifier: Notifier, key: bytes) -> None:
        self.repo = repository
        self.notifier = notifier
        self.key = key  # keys the hashes of confirmation codes
        self.clock = Clock(repository.conn)

    def _code_hash(self, report_id: int, code: str) -> str:
        return hmac.new(self.key, f"feedback:{report_id}:{code}".encode(), "sha256").hexdigest()

    def send(self, principal: Principal, category: str, description: str, lon: float,
             lat: float, reporter: Reporter, parcel_key: str | None = None,
             token: str | None = None) -> tuple[Any, bool]:
        """The report and whether it waits for its one-time code (anonymous reporters, who
        add its photos with `token`)."""
        found = self.repo.category(category)
        if found is None:
            raise InvalidInputError(f"no category {category!r}", "category")
        ward = self.repo.ward_at(lon, lat)
        if ward is None:
            raise InvalidInputError("the place is outside the district", "lat")
        if found.about_parcel and not parcel_key:
            raise InvalidInputError("construction without a permit is reported on a parcel: "
                                    "choose it on the map", "parcel_key")
        if parcel_key and not self.repo.parcel_exists(parcel_key):
            raise InvalidInputError(f"no parcel {parcel_key!r}", "parcel_key")
        values: dict[str, Any] = {
            "category": category, "description": description.strip(), "parcel_key": parcel_key,
            "ward_code": ward, "department": found.department, "show_name": reporter.show_name,
            "reporter_name": (reporter.name or "").strip() or None,
            "geom": f"SRID=4326;POINT({lon} {lat})"}
        signed_in = principal.person_id is not None
        if signed_in:
            values["reporter_id"] = principal.person_id
        elif reporter.phone:
            values["reporter_phone"] = _normalised_phone(reporter.phone)
        elif reporter.email and EMAIL.match(reporter.email.strip()):
            values["reporter_email"] = reporter.email.strip().lower()
        else:
            raise InvalidInputError("give a phone number or an e-mail address: the code that "
                                    "confirms the report goes there", "phone")
        made = create(self.repo.conn, FEEDBACK, "send", BY_CODE, values)
        if signed_in:
            self._confirm(made.row_id, found)
            return self.repo.get(made.row_id), False
        token = token or secrets.token_urlsafe(24)
        code = f"{secrets.randbelow(10**6):06d}"
        self.repo.conn.exec_driver_sql(
            "UPDATE feedback_report SET confirm_hash = %(h)s, confirm_expires_at = %(e)s, "
            "upload_token_hash = %(u)s WHERE id = %(i)s",
            {"h": self._code_hash(made.row_id, code), "i": made.row_id,
             "e": datetime.now(UTC) + timedelta(minutes=CODE_MINUTES),
             "u": token_hash(token)})
        channel, to = (("sms", values["reporter_phone"]) if "reporter_phone" in values
                       else ("email", values["reporter_email"]))
        self.notifier.send(channel, to, f"Mã xác nhận phản ánh số {made.row_id}: {code} "
                                        f"(hiệu lực {CODE_MINUTES} phút)")
        return self.repo.get(made.row_id), True

    def _confirm(self, report_id: int, category: Any) -> None:
        due = self.clock.due(today(), category.response_days, "working", category.department)
        fire(self.repo.conn, FEEDBACK, report_id, "confirm", BY_CODE,
             values={"confirmed_at": NOW, "due_on": due, "confirm_hash": None,
                     "updated_at": NOW})

    def confirm(self, report_id: int, code: str) -> Any:
        """The one-time code given back: the report is received, and public."""
        row = self.repo.get(report_id, lock=True)
        if row is None or row.status != ReportStatus.UNCONFIRMED or row.confirm_hash is None:
            raise NotFoundError("no report waits for this code", "code")
        if row.confirm_expires_at < datetime.now(UTC):
            raise InvalidInputError("the code has expired: send the report again", "code")
        if not hmac.compare_digest(self._code_hash(report_id, code.strip()), row.confirm_hash):
            raise InvalidInputError("the code is not the one sent", "code")
        self._confirm(report_id, self.repo.category(row.category))
        return self.repo.get(report_id)

    def act(self, principal: Principal, report_id: int, action: str,
            if_match: str | None, note: str | None, facts: dict[str, Any]) -> Any:
        """One move of the table, through the engine: the department's (assign, start, ask,
        answer, close) and the reporter's (reply, reopen)."""
        row = self.repo.get(report_id)
        if row is None or row.status in (ReportStatus.UNCONFIRMED, ReportStatus.EXPIRED):
            raise NotFoundError("no such report", "report_id")
        values: dict[str, Any] = {"updated_at": NOW}
        if action == "close":
            values.update(closed_at=NOW, closing=facts.get("closing"),
                          referred_to=facts.get("referred_to"),
                          duplicate_of=facts.get("duplicate_of"))
            if facts.get("duplicate_of") is not None:
                original = self.repo.public(int(facts["duplicate_of"]))
                if original is None or original.id == report_id:
                    raise InvalidInputError("no other report has this number", "duplicate_of")
        elif action == "reopen":
            values.update(closed_at=None, closing=None, referred_to=None, duplicate_of=None)
        fire(self.repo.conn, FEEDBACK, report_id, action, workflow_actor(principal, _subject),
             if_match=if_match, note=note,
             detail={k: v for k, v in facts.items() if v not in (None, "")}, values=values)
        return self.repo.get(report_id)

    def public(self, report_id: int) -> tuple[Any, list[Any]]:
        """What anyone sees of a report, and its public moves."""
        row = self.repo.public(report_id)
        if row is None:
            raise NotFoundError("no such report", "report_id")
        return row, self.repo.public_events(report_id)

    def receive_from_client(self, values: dict[str, Any], detail: Mapping[str, Any]) -> Any:
        """A report a trusted client sent (an Open311 application holding an administrator's
        key vouches for its reporter): received at once, routed and due as from an account."""
        made = create(self.repo.conn, FEEDBACK, "send", BY_CODE, values, detail=detail)
        self._confirm(made.row_id, self.repo.category(values["category"]))
        return self.repo.get(made.row_id)
