"""SQL of the officers' office: the queue, tasks, assignees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from accounts.policy import Reach

QUEUE_SQL = (Path(__file__).parent / "sql" / "queue.sql").read_text()


class OfficeRepository:
    """Reads the queue; writes tasks (their status only through the engine)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def queue(self, person_id: int, reach: Reach, limit: int) -> list[Any]:
        """The open items the person reaches or was given, the earliest deadline first."""
        pairs = [(d, w) for d, wards in reach.department_wards for w in wards]
        return list(self.conn.exec_driver_sql(QUEUE_SQL, {
            "me": person_id, "depts": list(reach.departments), "pd": [p[0] for p in pairs],
            "pw": [p[1] for p in pairs], "limit": limit}))

    def officer_of(self, person_id: int, department: str) -> bool:
        """Whether the person is an officer or leader of the department."""
        return self.conn.exec_driver_sql(
            "SELECT 1 FROM role_grant WHERE person_id = %(p)s AND role IN ('officer', "
            "'leader') AND department = %(d)s", {"p": person_id, "d": department}
        ).first() is not None

    def task(self, task_id: int) -> Any:
        """One task with its place, or None."""
        return self.conn.exec_driver_sql(
            "SELECT t.*, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat FROM office_task t "
            "WHERE t.id = %(i)s", {"i": task_id}).first()

    def task_events(self, task_id: int) -> list[Any]:
        """A task's moves, oldest first."""
        return list(self.conn.exec_driver_sql(
            "SELECT action, from_status, to_status, at, actor_id, note, detail "
            "FROM office_task_event WHERE task_id = %(t)s ORDER BY id", {"t": task_id}))

    def notices(self, person_id: int, unread: bool) -> list[Any]:
        """A person's last 100 notices, newest first."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, body, link, created_at, read_at FROM person_notice WHERE person_id = "
            "%(p)s AND (NOT %(u)s OR read_at IS NULL) ORDER BY id DESC LIMIT 100",
            {"p": person_id, "u": unread}))

    def read_notices(self, person_id: int, up_to: int) -> None:
        """A person's notices up to one are read."""
        self.conn.exec_driver_sql(
            "UPDATE person_notice SET read_at = now() WHERE person_id = %(p)s AND id <= %(i)s "
            "AND read_at IS NULL", {"p": person_id, "i": up_to})
