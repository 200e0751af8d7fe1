"""SQL of the officers' office: the queue, tasks, assignees."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from core.clock import today
from permits.feedback.workflow import OPEN as FEEDBACK_OPEN
from permits.office.workflow import TaskStatus
from permits.workflow import ASSIGNABLE

# The statuses in which an item is still the office's work, as its workflow lists them.
OPEN = {"open_dossier": [str(s) for s in ASSIGNABLE],
        "open_feedback": [str(s) for s in FEEDBACK_OPEN],
        "open_task": [str(TaskStatus.OPEN)]}
QUEUE_SQL = (Path(__file__).parent / "sql" / "queue.sql").read_text()
# The queue as the API answers it, written by the database: thousands of rows of known types
# need no Python between the cluster and the socket. The aggregate reads its subquery's rows in
# their order (nothing at its level joins or groups them; PostgreSQL's docs on aggregates).
QUEUE_FIELDS = ("kind", "id", "etag", "label", "title", "status", "department", "ward_code",
                "ward", "old_ward", "lon", "lat", "due_on", "working_days_left", "urgency",
                "next_action", "assignee_id")
QUEUE_JSON_SQL = (
    "SELECT coalesce(json_agg(q), '[]')::text FROM (SELECT "
    + ", ".join(f"x.{f}" for f in QUEUE_FIELDS)
    + f" FROM ({QUEUE_SQL}) AS x ORDER BY x.queue_position) AS q")


class OfficeRepository:
    """Reads the queue; writes tasks (their status only through the engine)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def queue(self, query: Mapping[str, Any]) -> list[Any]:
        """The open items the person reaches or was given, the most urgent first (the
        parameters of sql/queue.sql)."""
        return list(self.conn.exec_driver_sql(QUEUE_SQL, dict(query)))

    def queue_json(self, query: Mapping[str, Any]) -> str:
        """The same, as the JSON array the API answers."""
        return str(self.conn.exec_driver_sql(QUEUE_JSON_SQL, dict(query)).scalar_one())

    def ward_names(self, codes: list[str]) -> dict[str, str]:
        """Wards' names by code (today's name where a code had two)."""
        return {str(c): str(n) for c, n in self.conn.exec_driver_sql(
            "SELECT DISTINCT ON (code) code, name FROM admin_unit WHERE level = 'ward' "
            "AND code = ANY(%(k)s) ORDER BY code, valid_to DESC NULLS FIRST", {"k": codes})}

    def person_names(self, ids: list[int]) -> dict[str, str]:
        """People's names by id (as text, a statistics group's key)."""
        return {str(i): str(n) for i, n in self.conn.exec_driver_sql(
            "SELECT id, display_name FROM person WHERE id = ANY(%(k)s::bigint[]) "
            "AND deleted_at IS NULL", {"k": ids})}

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

    def add_document(self, values: dict[str, Any]) -> int | None:
        """A register entry; its id (None when the same number of that day is there, even
        written a moment ago by another request: the constraint decides, not a read before)."""
        columns = ", ".join(values)
        marks = ", ".join(f"%({k})s" for k in values)
        found = self.conn.exec_driver_sql(
            f"INSERT INTO office_document ({columns}) VALUES ({marks}) "
            "ON CONFLICT ON CONSTRAINT one_entry_per_number DO NOTHING RETURNING id",
            values).scalar_one_or_none()
        return None if found is None else int(found)

    def lock_document(self, document_id: int) -> None:
        """Hold a register entry until the transaction ends (none: nothing to hold)."""
        self.conn.exec_driver_sql("SELECT 1 FROM office_document WHERE id = %(i)s FOR UPDATE",
                                  {"i": document_id})

    def link(self, document_id: int, kind: str, ref: str, found: bool) -> None:
        """The document is about a dossier, a parcel or a task."""
        self.conn.exec_driver_sql(
            "INSERT INTO office_document_link (document_id, kind, ref, found) VALUES "
            "(%(d)s, %(k)s, %(r)s, %(f)s) ON CONFLICT DO NOTHING",
            {"d": document_id, "k": kind, "r": ref, "f": found})

    def existing(self, codes: list[str], parcels: list[str]) -> tuple[set[str], set[str]]:
        """Which of these dossier codes and parcel keys exist."""
        found_codes = {r[0] for r in self.conn.exec_driver_sql(
            "SELECT code FROM dossier WHERE code = ANY(%(c)s)", {"c": codes})}
        found_parcels = {r[0] for r in self.conn.exec_driver_sql(
            "SELECT parcel_key FROM parcel WHERE parcel_key = ANY(%(p)s)", {"p": parcels})}
        return found_codes, found_parcels

    def documents(self, departments: list[str] | None, query: str | None, year: int | None,
                  direction: str | None, limit: int, offset: int,
                  document_id: int | None = None) -> list[Any]:
        """Register entries, the best match first when searched (accents optional), else
        the newest; `departments` None: every department."""
        return list(self.conn.exec_driver_sql(
            "WITH q AS (SELECT CASE WHEN %(q)s::text IS NULL THEN NULL "
            "ELSE plainto_tsquery('simple', civic_unaccent(%(q)s)) END AS tsq) "
            "SELECT d.id, d.direction, d.number, d.symbol, d.issued_on, d.issuer, d.summary, "
            "d.doc_type, d.urgency, d.department, d.handler_id, d.source, d.created_at, "
            "d.deadline_on, d.file_name, d.file_type, d.file_size, "
            "coalesce((SELECT json_agg(json_build_object('kind', l.kind, 'ref', l.ref, "
            "'found', l.found) ORDER BY l.kind, l.ref) FROM office_document_link l "
            "WHERE l.document_id = d.id), '[]') AS links "
            "FROM office_document d, q WHERE (%(all)s OR d.department = ANY(%(depts)s)) "
            "AND (q.tsq IS NULL OR d.search @@ q.tsq) "
            "AND (%(y)s::int IS NULL OR extract(year FROM d.issued_on) = %(y)s) "
            "AND (%(dir)s::text IS NULL OR d.direction = %(dir)s) "
            "AND (%(id)s::bigint IS NULL OR d.id = %(id)s) "
            "ORDER BY CASE WHEN q.tsq IS NULL THEN 0 ELSE ts_rank(d.search, q.tsq) END DESC, "
            "d.issued_on DESC, d.id DESC LIMIT %(n)s OFFSET %(o)s",
            {"q": query, "all": departments is None, "depts": departments or [], "y": year,
             "dir": direction, "n": limit, "o": offset, "id": document_id}))

    def set_file(self, document_id: int, digest: str, kind: str, size: int, name: str) -> None:
        """The entry's file (another replaces it; the old one goes with the sweep)."""
        self.conn.exec_driver_sql(
            "UPDATE office_document SET file_sha256 = %(h)s, file_type = %(t)s, "
            "file_size = %(s)s, file_name = %(n)s WHERE id = %(i)s",
            {"h": digest, "t": kind, "s": size, "n": name, "i": document_id})

    def file_of(self, document_id: int) -> Any:
        """The entry's file, if it has one."""
        return self.conn.exec_driver_sql(
            "SELECT file_sha256, file_type, file_name FROM office_document "
            "WHERE id = %(i)s AND file_sha256 IS NOT NULL", {"i": document_id}).first()

    def workload_by_ward(self, departments: list[str] | None) -> list[Any]:
        """Each ward of today: its name, a point inside it, its open dossiers, reports and
        tasks (`departments` None: every department's), and how many are overdue."""
        return list(self.conn.exec_driver_sql(
            """
            WITH open AS (
                SELECT ward_code, due_on, department FROM dossier
                WHERE status = ANY(%(open_dossier)s::text[])
                UNION ALL
                SELECT ward_code, due_on, department FROM feedback_report
                WHERE status = ANY(%(open_feedback)s::text[])
                UNION ALL
                SELECT ward_code, due_on, department FROM office_task
                WHERE status = ANY(%(open_task)s::text[]) AND ward_code IS NOT NULL
            )
            SELECT w.code, w.name, ST_X(p.c) AS lon, ST_Y(p.c) AS lat,
                   count(o.ward_code) AS open,
                   count(o.ward_code) FILTER (WHERE o.due_on < %(today)s) AS late
            FROM admin_unit w
            CROSS JOIN LATERAL (SELECT ST_PointOnSurface(w.geom) AS c) p
            LEFT JOIN open o ON o.ward_code = w.code
                AND (%(all)s OR o.department = ANY(%(d)s::text[]))
            WHERE w.level = 'ward' AND w.valid_to IS NULL
            GROUP BY w.code, w.name, p.c ORDER BY w.code
            """, {"all": departments is None, "d": departments or [], "today": today(),
                  **OPEN}))

    def feedback_points(self, first: Any, last: Any, departments: list[str] | None
                        ) -> list[Any]:
        """The period's reports (received in it; no voices, none hidden): where, what, and
        whether they were answered late or are overdue. No reporter's anything."""
        return list(self.conn.exec_driver_sql(
            """
            SELECT ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, c.name_vi AS category,
                   coalesce((SELECT min(e.at) FROM feedback_event e WHERE e.report_id = r.id
                             AND e.action IN ('answer', 'close')), now())
                       AT TIME ZONE 'Asia/Ho_Chi_Minh' > r.due_on + 1 AS late
            FROM feedback_report r JOIN feedback_category c ON c.code = r.category
            WHERE NOT r.joined AND r.hidden_reason IS NULL AND r.confirmed_at IS NOT NULL
              AND (r.confirmed_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                  BETWEEN %(first)s AND %(last)s
              AND (%(all)s OR r.department = ANY(%(d)s::text[]))
            ORDER BY r.id LIMIT 20000
            """, {"first": first, "last": last, "all": departments is None,
                  "d": departments or []}))

    def ward_outlines(self) -> dict[str, Any]:
        """Today's wards as a GeoJSON FeatureCollection (simplified: a map at district
        scale), each with its name."""
        found = self.conn.exec_driver_sql(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', "
            "coalesce(json_agg(json_build_object('type', 'Feature', 'properties', "
            "json_build_object('name', name), 'geometry', "
            "ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0001), 6)::json) "
            "ORDER BY code), '[]')) FROM admin_unit WHERE level = 'ward' "
            "AND valid_to IS NULL").scalar_one()
        return dict(found)

    def save_report(self, kind: str, period: str, department: str | None, page: str,
                    person_id: int | None) -> int:
        """Keep a report (in place of the one of the same kind, period and department)."""
        return int(self.conn.exec_driver_sql(
            "INSERT INTO office_report (kind, period, department, html, made_by) "
            "VALUES (%(k)s, %(p)s, %(d)s, %(h)s, %(b)s) "
            "ON CONFLICT (kind, period, (coalesce(department, ''))) DO UPDATE SET "
            "html = excluded.html, made_by = excluded.made_by, made_at = now() RETURNING id",
            {"k": kind, "p": period, "d": department, "h": page, "b": person_id}
        ).scalar_one())

    def reports(self, departments: list[str] | None) -> list[Any]:
        """The kept reports (`departments` None: every one, the district's too), newest
        first."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, kind, period, department, made_at FROM office_report "
            "WHERE %(all)s OR department = ANY(%(d)s::text[]) "
            "ORDER BY made_at DESC, id DESC LIMIT 100",
            {"all": departments is None, "d": departments or []}))

    def report(self, report_id: int) -> Any:
        """One kept report, its page."""
        return self.conn.exec_driver_sql(
            "SELECT id, kind, period, department, made_at, html FROM office_report "
            "WHERE id = %(i)s",
            {"i": report_id}).first()

    def add_event(self, values: dict[str, Any]) -> int:
        """A calendar entry; its id."""
        columns = ", ".join(values)
        marks = ", ".join(f"%({k})s" for k in values)
        return int(self.conn.exec_driver_sql(
            f"INSERT INTO office_event ({columns}) VALUES ({marks}) RETURNING id",
            values).scalar_one())

    def events(self, person_id: int, departments: list[str], first: Any, last: Any
               ) -> list[Any]:
        """The person's own entries and their departments' between two instants."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, kind, title, starts_at, ends_at, department, person_id, place, "
            "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM office_event "
            "WHERE (person_id = %(p)s OR department = ANY(%(d)s)) "
            "AND starts_at < %(last)s AND ends_at > %(first)s ORDER BY starts_at, id",
            {"p": person_id, "d": departments, "first": first, "last": last}))

    def new_feed(self, person_id: int, token_hash: str) -> None:
        """The person's calendar feed, with a new secret (the old one stops working)."""
        self.revoke_feeds(person_id)
        self.conn.exec_driver_sql(
            "INSERT INTO calendar_feed (person_id, token_hash) VALUES (%(p)s, %(h)s)",
            {"p": person_id, "h": token_hash})

    def revoke_feeds(self, person_id: int) -> None:
        """The person's feed secrets open nothing any more."""
        self.conn.exec_driver_sql(
            "UPDATE calendar_feed SET revoked_at = now() WHERE person_id = %(p)s "
            "AND revoked_at IS NULL", {"p": person_id})

    def feed_owner(self, token_hash: str) -> int | None:
        """Whose live feed this secret opens, or None."""
        found = self.conn.exec_driver_sql(
            "SELECT f.person_id FROM calendar_feed f JOIN person p ON p.id = f.person_id "
            "WHERE f.token_hash = %(h)s AND f.revoked_at IS NULL AND p.deleted_at IS NULL",
            {"h": token_hash}).first()
        return None if found is None else int(found[0])

    def grants_of(self, person_id: int) -> list[Any]:
        """A person's roles with their departments and wards."""
        return list(self.conn.exec_driver_sql(
            "SELECT role, department, wards FROM role_grant WHERE person_id = %(p)s",
            {"p": person_id}))

    def officers(self, department: str) -> list[Any]:
        """The department's officers (not leaders), with their names."""
        return list(self.conn.exec_driver_sql(
            "SELECT g.person_id, p.display_name FROM role_grant g JOIN person p "
            "ON p.id = g.person_id WHERE g.role = 'officer' AND g.department = %(d)s "
            "AND p.deleted_at IS NULL ORDER BY g.person_id", {"d": department}))

    def handled_since(self, people: list[int], since: Any) -> dict[int, int]:
        """How many items each person moved to an end (decided, answered or closed,
        completed) since a day: their pace, from the events."""
        return {int(r[0]): int(r[1]) for r in self.conn.exec_driver_sql(
            "SELECT actor_id, count(*) FROM ("
            "SELECT actor_id FROM dossier_event WHERE actor_id = ANY(%(p)s) AND at >= %(s)s "
            "AND action IN ('approve', 'refuse', 'issue_result', 'return_result') "
            "UNION ALL SELECT actor_id FROM feedback_event WHERE actor_id = ANY(%(p)s) "
            "AND at >= %(s)s AND action IN ('answer', 'close') "
            "UNION ALL SELECT actor_id FROM office_task_event WHERE actor_id = ANY(%(p)s) "
            "AND at >= %(s)s AND action = 'complete') moves GROUP BY actor_id",
            {"p": people, "s": since})}

    def leave_days(self, people: list[int], first: Any, last: Any) -> dict[int, set[Any]]:
        """The days each person is on leave between two days (their calendar's entries)."""
        found: dict[int, set[Any]] = {}
        for person, day in self.conn.exec_driver_sql(
                "SELECT e.person_id, d::date FROM office_event e, generate_series("
                "(e.starts_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, "
                "((e.ends_at - interval '1 second') AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, "
                "interval '1 day') d WHERE e.kind = 'leave' AND e.person_id = ANY(%(p)s) "
                "AND e.ends_at > %(f)s AND e.starts_at < %(l)s",
                {"p": people, "f": first, "l": last}):
            found.setdefault(int(person), set()).add(day)
        return found
