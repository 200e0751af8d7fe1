"""SQL of feedback reports and their categories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

# What anyone may see of a report: never its reporter's contact; the name only when allowed.
PUBLIC_COLUMNS = (
    "r.id, r.version, r.category, c.name_vi AS category_vi, c.name_en AS category_en, r.status, "
    "CASE WHEN r.hidden_reason IS NULL THEN r.description END AS description, "
    "r.hidden_reason IS NOT NULL AS hidden, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, "
    "r.parcel_key, r.ward_code, r.created_at, r.updated_at, r.due_on, r.closing, "
    "r.referred_to, r.duplicate_of, r.closed_at, r.joined, r.rating, r.assignee_id, "
    "r.flood_id, CASE WHEN r.show_name THEN r.reporter_name END AS reporter_name, "
    # Me-toos and merged duplicates: the voices behind a report.
    "(SELECT count(*) FROM feedback_report v WHERE v.duplicate_of = r.id "
    "AND v.status = 'closed') AS voices, "
    # Construction without a permit: whether the parcel has one (a construction permit
    # approved, ready or returned); the public may know that much.
    "CASE WHEN r.parcel_key IS NOT NULL THEN EXISTS (SELECT 1 FROM dossier d "
    "WHERE d.parcel_key = r.parcel_key AND d.procedure_id LIKE 'construction-permit%%' "
    "AND d.status IN ('approved', 'result_ready', 'result_returned')) END AS parcel_permit, "
    # Its photos the public may see: those whose blurred copy is written, none while hidden.
    "(SELECT coalesce(array_agg(p.id ORDER BY p.id), ARRAY[]::bigint[]) FROM feedback_photo p "
    "WHERE p.report_id = r.id AND p.public_sha256 IS NOT NULL AND r.hidden_reason IS NULL) "
    "AS photo_ids")
CONFIRMED = "r.status NOT IN ('unconfirmed', 'expired')"
# A flood event as anyone sees it: its area (150 m around its reports' places), its count.
FLOOD_COLUMNS = (
    "f.id, f.version, f.status, f.day, f.ward_code, f.closed_at, "
    "ST_AsGeoJSON(ST_Buffer(f.geom::geography, 150)::geometry, 6)::json AS geometry, "
    "(SELECT count(*) FROM feedback_report r WHERE r.flood_id = f.id) AS reports")


class FeedbackRepository:
    """Reads and writes reports (their status only through the engine)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def category(self, code: str, lock: bool = False) -> Any:
        """One category with its department and response time, or None."""
        return self.conn.exec_driver_sql(
            "SELECT code, name_vi, name_en, department, response_days, about_parcel, version "
            "FROM feedback_category WHERE code = %(c)s" + (" FOR UPDATE" if lock else ""),
            {"c": code}).first()

    def categories(self) -> list[Any]:
        """Every category, in the 1022 system's order of the seed."""
        return list(self.conn.exec_driver_sql(
            "SELECT code, name_vi, name_en, department, response_days, about_parcel, version "
            "FROM feedback_category ORDER BY name_vi"))

    def update_category(self, code: str, department: str, response_days: int) -> None:
        """A category's new department and response time (its version bumped); the
        department and time are then verified, not guessed."""
        self.conn.exec_driver_sql(
            "UPDATE feedback_category SET department = %(d)s, response_days = %(r)s, "
            "version = version + 1, unverified = '[]' WHERE code = %(c)s",
            {"d": department, "r": response_days, "c": code})

    def ward_at(self, lon: float, lat: float) -> str | None:
        """The current ward the point lies in, or None outside the district."""
        row = self.conn.exec_driver_sql(
            "SELECT code FROM admin_unit WHERE level = 'ward' AND valid_to IS NULL "
            "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)) LIMIT 1",
            {"x": lon, "y": lat}).first()
        return None if row is None else str(row[0])

    def parcel_exists(self, key: str) -> bool:
        """Whether the parcel is on the map."""
        return self.conn.exec_driver_sql("SELECT 1 FROM parcel WHERE parcel_key = %(k)s",
                                         {"k": key}).first() is not None

    def get(self, report_id: int, lock: bool = False) -> Any:
        """A report with every column (the reporter's too), or None."""
        return self.conn.exec_driver_sql(
            "SELECT r.*, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat FROM feedback_report r "
            "WHERE r.id = %(i)s" + (" FOR UPDATE" if lock else ""), {"i": report_id}).first()

    def public(self, report_id: int) -> Any:
        """What anyone sees of a confirmed report, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {PUBLIC_COLUMNS} FROM feedback_report r JOIN feedback_category c "
            "ON c.code = r.category WHERE r.id = %(i)s "
            "AND r.status NOT IN ('unconfirmed', 'expired')", {"i": report_id}).first()

    def public_list(self, bbox: tuple[float, float, float, float] | None,
                    category: str | None, open_only: bool, limit: int,
                    offset: int) -> list[Any]:
        """Confirmed reports, newest first, within a box and of a category when asked."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {PUBLIC_COLUMNS} FROM feedback_report r JOIN feedback_category c "
            "ON c.code = r.category WHERE r.status NOT IN ('unconfirmed', 'expired') "
            "AND NOT r.joined AND (%(cat)s::text IS NULL OR r.category = %(cat)s) "
            "AND (NOT %(open)s OR r.status <> 'closed') "
            "AND (%(x0)s::float8 IS NULL OR r.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, "
            "%(x1)s, %(y1)s, 4326)) ORDER BY r.id DESC LIMIT %(n)s OFFSET %(o)s",
            {"cat": category, "open": open_only, "n": limit, "o": offset,
             **dict(zip(("x0", "y0", "x1", "y1"), bbox or (None,) * 4, strict=True))}))

    def nearby(self, lon: float, lat: float, category: str, metres: float,
               closed_days: int) -> list[Any]:
        """Confirmed reports of the category within `metres`, open or closed in the last
        `closed_days` days, the nearest first: "is it one of these?"."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {PUBLIC_COLUMNS}, ST_Distance(r.geom::geography, here.g::geography) "
            "AS distance_m FROM feedback_report r JOIN feedback_category c "
            "ON c.code = r.category, (SELECT ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326) "
            "AS g) here WHERE r.category = %(cat)s "
            "AND r.status NOT IN ('unconfirmed', 'expired') AND NOT r.joined "
            "AND (r.status <> 'closed' OR r.closed_at > now() - make_interval(days => %(d)s)) "
            "AND ST_DWithin(r.geom::geography, here.g::geography, %(m)s) "
            "ORDER BY distance_m, r.id LIMIT 20",
            {"x": lon, "y": lat, "cat": category, "m": metres, "d": closed_days}))

    def public_events(self, report_id: int, reporter: bool = False) -> list[Any]:
        """A report's public moves, oldest first, with the department's public answers; for
        its reporter also the questions asked of them and their replies."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, action, to_status, at, CASE WHEN action IN ('answer', 'close') "
            "OR visibility = 'applicant' THEN note END AS note FROM feedback_event "
            "WHERE report_id = %(r)s AND (visibility = 'public' OR (%(me)s AND visibility = "
            "'applicant')) ORDER BY id", {"r": report_id, "me": reporter}))

    def mine(self, person_id: int, limit: int, offset: int) -> list[Any]:
        """A citizen's own reports (what anyone sees of them), newest first."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {PUBLIC_COLUMNS} FROM feedback_report r JOIN feedback_category c "
            f"ON c.code = r.category WHERE r.reporter_id = %(p)s AND {CONFIRMED} "
            "ORDER BY r.id DESC LIMIT %(n)s OFFSET %(o)s",
            {"p": person_id, "n": limit, "o": offset}))

    def staff_events(self, report_id: int) -> list[Any]:
        """Every move of a report, oldest first, with who made it and what it said."""
        return list(self.conn.exec_driver_sql(
            "SELECT e.id, e.action, e.from_status, e.to_status, e.at, e.note, e.visibility, "
            "e.detail, e.actor_id, p.display_name AS actor_name FROM feedback_event e "
            "LEFT JOIN person p ON p.id = e.actor_id WHERE e.report_id = %(r)s ORDER BY e.id",
            {"r": report_id}))

    def voices(self, report_id: int) -> list[Any]:
        """The reports joined or merged into this one, with their reporters."""
        return list(self.conn.exec_driver_sql(
            "SELECT r.id, r.joined, r.created_at, r.reporter_id, r.reporter_name, "
            "r.reporter_phone, r.reporter_email FROM feedback_report r "
            "WHERE r.duplicate_of = %(r)s AND r.status = 'closed' ORDER BY r.id",
            {"r": report_id}))

    def parcel_dossiers(self, parcel_key: str) -> list[Any]:
        """The parcel's dossiers, newest first, for the officer judging construction without
        a permit: what was asked, where it stands, when."""
        return list(self.conn.exec_driver_sql(
            "SELECT d.id, d.code, d.procedure_id, p.name_vi AS procedure_vi, d.status, "
            "d.submitted_at, d.due_on, d.answers->>'floors' AS floors FROM dossier d "
            "JOIN procedure p ON p.id = d.procedure_id WHERE d.parcel_key = %(k)s "
            "AND d.status <> 'draft' ORDER BY d.id DESC LIMIT 50", {"k": parcel_key}))

    def flood_near(self, lon: float, lat: float, day: Any, metres: float) -> Any:
        """The open flood event of the day whose area is within `metres`, locked, or None."""
        return self.conn.exec_driver_sql(
            "SELECT id, version FROM feedback_flood WHERE status = 'open' AND day = %(d)s "
            "AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)"
            "::geography, %(m)s) ORDER BY id LIMIT 1 FOR UPDATE",
            {"d": day, "x": lon, "y": lat, "m": metres}).first()

    def flood_grown(self, flood_id: int, lon: float, lat: float) -> str:
        """The event's area with one more report's place: the hull of them all (EWKT)."""
        return str(self.conn.exec_driver_sql(
            "SELECT ST_AsEWKT(ST_ConvexHull(ST_Collect(geom, ST_SetSRID(ST_MakePoint("
            "%(x)s, %(y)s), 4326)))) FROM feedback_flood WHERE id = %(i)s",
            {"i": flood_id, "x": lon, "y": lat}).scalar_one())

    def set_flood(self, report_id: int, flood_id: int) -> None:
        """The report belongs to the flood event (not a status: a grouping)."""
        self.conn.exec_driver_sql("UPDATE feedback_report SET flood_id = %(f)s WHERE id = %(r)s",
                                  {"f": flood_id, "r": report_id})

    def floods(self, day: Any) -> list[Any]:
        """The day's flood events, each with its area (150 m around its reports' places) and
        how many reports it groups."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {FLOOD_COLUMNS} FROM feedback_flood f WHERE f.day = %(d)s ORDER BY f.id",
            {"d": day}))

    def flood(self, flood_id: int) -> Any:
        """One flood event, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {FLOOD_COLUMNS} FROM feedback_flood f WHERE f.id = %(i)s",
            {"i": flood_id}).first()

    def contacts_to_remove(self, days: int, limit: int) -> list[int]:
        """Reports closed (or expired) more than `days` days ago whose reporter's contact is
        still kept."""
        return [int(r[0]) for r in self.conn.exec_driver_sql(
            "SELECT id FROM feedback_report WHERE contact_removed_at IS NULL AND ("
            "(status = 'closed' AND closed_at < now() - make_interval(days => %(d)s)) OR "
            "(status = 'expired' AND created_at < now() - make_interval(days => %(d)s))) "
            "ORDER BY id LIMIT %(n)s", {"d": days, "n": limit})]
