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
    "r.referred_to, r.duplicate_of, r.closed_at, "
    "CASE WHEN r.show_name THEN r.reporter_name END AS reporter_name")


class FeedbackRepository:
    """Reads and writes reports (their status only through the engine)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def category(self, code: str) -> Any:
        """One category with its department and response time, or None."""
        return self.conn.exec_driver_sql(
            "SELECT code, name_vi, name_en, department, response_days, about_parcel "
            "FROM feedback_category WHERE code = %(c)s", {"c": code}).first()

    def categories(self) -> list[Any]:
        """Every category, in the 1022 system's order of the seed."""
        return list(self.conn.exec_driver_sql(
            "SELECT code, name_vi, name_en, department, response_days, about_parcel "
            "FROM feedback_category ORDER BY name_vi"))

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
            "AND (%(cat)s::text IS NULL OR r.category = %(cat)s) "
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
            "AND r.status NOT IN ('unconfirmed', 'expired') "
            "AND (r.status <> 'closed' OR r.closed_at > now() - make_interval(days => %(d)s)) "
            "AND ST_DWithin(r.geom::geography, here.g::geography, %(m)s) "
            "ORDER BY distance_m, r.id LIMIT 20",
            {"x": lon, "y": lat, "cat": category, "m": metres, "d": closed_days}))

    def public_events(self, report_id: int) -> list[Any]:
        """A report's public moves, oldest first, with the department's public answers."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, action, to_status, at, CASE WHEN action IN ('answer', 'close') "
            "THEN note END AS note FROM feedback_event WHERE report_id = %(r)s "
            "AND visibility = 'public' ORDER BY id", {"r": report_id}))
