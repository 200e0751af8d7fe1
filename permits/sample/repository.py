"""What the sample's half year reads of the map: parcels a procedure applies to, places of
reports; and whether the half year is there already."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


class SampleRepository:
    """The map's parcels and wards, as the sample's applicants and reporters choose them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def present(self, marker: str) -> bool:
        """Whether the sample's accounts (their e-mails carry `marker`) exist."""
        return self.conn.exec_driver_sql(
            "SELECT 1 FROM person WHERE email LIKE %(m)s LIMIT 1",
            {"m": f"%@{marker}"}).first() is not None

    def person(self, email: str) -> int:
        """The account with this e-mail."""
        return int(self.conn.exec_driver_sql(
            "SELECT id FROM person WHERE email = %(e)s AND deleted_at IS NULL",
            {"e": email}).scalar_one())

    def parcels(self, procedure_id: str, count: int) -> list[str]:
        """Up to `count` parcels in zoning blocks of a function the procedure applies to,
        spread over the district (every n-th, so that each ward has its share)."""
        return [str(r[0]) for r in self.conn.exec_driver_sql(
            """
            WITH fit AS (
                SELECT p.parcel_key, row_number() OVER (ORDER BY p.id) AS n
                FROM parcel p
                JOIN zoning_block z ON ST_Intersects(z.geom, ST_PointOnSurface(p.geom))
                JOIN procedure r ON r.id = %(p)s
                WHERE z.function_category = ANY(r.applies_to)
            )
            SELECT parcel_key FROM fit
            WHERE n %% greatest(1, (SELECT count(*) FROM fit) / %(c)s) = 0
            ORDER BY n LIMIT %(c)s
            """, {"p": procedure_id, "c": count})]

    def places(self, count: int) -> list[tuple[float, float, str]]:
        """Up to `count` points on parcels across the district (lon, lat, parcel key), where
        residents would see a pothole or a broken lamp."""
        return [(float(r[0]), float(r[1]), str(r[2])) for r in self.conn.exec_driver_sql(
            "SELECT ST_X(c), ST_Y(c), parcel_key FROM (SELECT ST_PointOnSurface(geom) AS c, "
            "parcel_key, row_number() OVER (ORDER BY id) AS n FROM parcel) p "
            "WHERE n %% greatest(1, (SELECT count(*) FROM parcel) / %(c)s) = 0 "
            "ORDER BY n LIMIT %(c)s", {"c": count})]

    def wards(self) -> list[str]:
        """The district's wards today."""
        return [str(r[0]) for r in self.conn.exec_driver_sql(
            "SELECT code FROM admin_unit WHERE level = 'ward' AND valid_to IS NULL "
            "ORDER BY code")]

    def categories(self) -> list[Any]:
        """Feedback categories reported anywhere (not those about one parcel)."""
        return list(self.conn.exec_driver_sql(
            "SELECT code, department, response_days FROM feedback_category "
            "WHERE NOT about_parcel ORDER BY code"))
