"""Reminders of the officers' office: each morning's digest, and an alert when an item enters
its last working day or becomes overdue. Each is sent once per item, person and moment, kept in
`office_reminder` (its key refuses a second), whatever restarts or how many workers run;
delivered as an in-app notice and through the outbox."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from accounts.notify import tell_person
from accounts.policy import Grant, Principal
from core.workflow import driver
from permits.office.repository import OfficeRepository
from permits.office.service import OfficeService, Urgency
from permits.workflow import today

NOUN = {"dossier": "Hồ sơ", "feedback": "Phản ánh", "task": "Việc"}
LINK = {"dossier": "#/dossiers/{id}", "feedback": "#/feedback/{id}", "task": "#/office/tasks/{id}"}


@dataclass
class Sent:
    """What one run sent."""

    digests: int = 0
    alerts: Counter[str] = field(default_factory=Counter)


def staff(conn: Connection) -> list[Principal]:
    """Every officer and leader, with their grants, as the policy sees them."""
    grants: dict[int, list[Grant]] = {}
    for row in conn.exec_driver_sql(
            "SELECT g.person_id, g.role, g.department, g.wards FROM role_grant g "
            "JOIN person p ON p.id = g.person_id WHERE p.deleted_at IS NULL "
            "AND g.role IN ('officer', 'leader') ORDER BY g.person_id"):
        grants.setdefault(int(row.person_id), []).append(
            Grant(row.role, row.department, tuple(row.wards or ())))
    return [Principal(person_id=p, grants=tuple(g), via="cookie") for p, g in grants.items()]


class Reminders:
    """The office's reminders, for every officer and leader."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.office = OfficeService(OfficeRepository(conn))

    def once(self, kind: str, item_kind: str, item_id: int, person_id: int,
             moment: date) -> bool:
        """Claim a reminder; False when it was sent already (by this worker or another)."""
        return self.conn.exec_driver_sql(
            "INSERT INTO office_reminder (kind, item_kind, item_id, person_id, moment) "
            "VALUES (%(k)s, %(ik)s, %(i)s, %(p)s, %(m)s) ON CONFLICT DO NOTHING RETURNING 1",
            {"k": kind, "ik": item_kind, "i": item_id, "p": person_id, "m": moment}
        ).first() is not None

    def _tell(self, person_id: int, body: str, link: str | None) -> None:
        tell_person(driver(self.conn), person_id, body, link)

    def run(self, *, digest: bool, day: date | None = None) -> Sent:
        """One round: the digest when asked (on the department's working days), and the
        alerts due now for officers (leaders get the digest)."""
        day, sent = day or today(), Sent()
        for principal in staff(self.conn):
            assert principal.person_id is not None
            items = self.office.queue(principal, 5000)
            leader = "leader" in principal.roles
            if digest and self._working(principal, day) and self.once(
                    "digest", "person", principal.person_id, principal.person_id, day):
                counts = Counter(i.urgency for i in items)
                self._tell(principal.person_id,
                           f"Việc ngày {day:%d/%m}: {counts[Urgency.OVERDUE]} quá hạn, "
                           f"{counts[Urgency.TODAY]} đến hạn hôm nay, {counts[Urgency.SOON]} "
                           "trong 2 ngày làm việc tới.", "#/office")
                sent.digests += 1
            if leader:
                continue
            for item in items:
                kind = self._alert(item.urgency, item.working_days_left)
                due = item.row.due_on
                if kind and due is not None and self.once(
                        kind, item.row.kind, item.row.id, principal.person_id, due):
                    self._tell(principal.person_id, self._said(kind, item.row),
                               LINK[item.row.kind].format(id=item.row.id))
                    sent.alerts[kind] += 1
        return sent

    @staticmethod
    def _alert(urgency: Urgency, left: int | None) -> str | None:
        if urgency is Urgency.OVERDUE:
            return "overdue"
        if urgency in (Urgency.TODAY, Urgency.SOON) and left is not None and left <= 1:
            return "due_soon"
        return None

    @staticmethod
    def _said(kind: str, row: Any) -> str:
        what = f"{NOUN[row.kind]} {row.label or row.title}"
        if kind == "overdue":
            return f"{what} đã quá hạn (hạn {row.due_on:%d/%m/%Y})."
        return f"{what} đến hạn ngày {row.due_on:%d/%m/%Y}."

    def _working(self, principal: Principal, day: date) -> bool:
        return self.office.calendar(principal.department()).is_working_day(day)
