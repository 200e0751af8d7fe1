"""SQL of the Open311 face: reports as the spec shows them, places by address, clients and
their keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

# Only what anyone may see: no reporter column is read at all (their name and contact stay
# out of every Open311 answer). A moderated description is left out; a "me too" joined to
# another report is not listed on its own.
REQUEST = """
SELECT r.id, r.status, r.category, c.name_vi AS service_name, r.department,
       c.response_days, CASE WHEN r.hidden_reason IS NULL THEN r.description END
       AS description, r.created_at, r.updated_at, r.closed_at, r.due_on, r.closing,
       r.referred_to, r.duplicate_of, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, r.media_url,
       ward.name AS ward_name, place.parcel_key AS address_id, place.address,
       (SELECT e.note FROM feedback_event e WHERE e.report_id = r.id
         AND e.visibility = 'public' AND e.action = 'close' ORDER BY e.id DESC LIMIT 1)
       AS close_note,
       (SELECT e.note FROM feedback_event e WHERE e.report_id = r.id
         AND e.visibility = 'public' AND e.action = 'answer' ORDER BY e.id DESC LIMIT 1)
       AS answer_note,
       -- The first photo the public may see (its blurred copy written; none while hidden).
       (SELECT min(p.id) FROM feedback_photo p WHERE p.report_id = r.id
         AND p.public_sha256 IS NOT NULL AND r.hidden_reason IS NULL) AS photo_id
FROM feedback_report r
JOIN feedback_category c ON c.code = r.category
LEFT JOIN admin_unit ward ON ward.level = 'ward' AND ward.valid_to IS NULL
     AND ward.code = r.ward_code
LEFT JOIN LATERAL (
    SELECT p.parcel_key, p.address FROM parcel p
    WHERE p.parcel_key = r.parcel_key
    UNION ALL
    SELECT p.parcel_key, p.address FROM parcel p
    WHERE r.parcel_key IS NULL AND ST_Intersects(p.geom, r.geom)
    LIMIT 1) place ON true
WHERE r.status NOT IN ('unconfirmed', 'expired') AND NOT r.joined
"""


class Open311Repository:
    """Reads reports for Open311 clients, and keeps the clients' keys."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def requests(self, ids: list[int] | None, codes: list[str] | None,
                 start: datetime, end: datetime, closed: bool | None,
                 bbox: tuple[float, float, float, float] | None, limit: int) -> list[Any]:
        """Reports by number (the window ignored), else those sent in the window, of the
        services, status and box asked for; newest first."""
        return list(self.conn.exec_driver_sql(
            REQUEST + """
            AND (CASE WHEN %(ids)s::bigint[] IS NOT NULL THEN r.id = ANY(%(ids)s::bigint[])
                 ELSE r.created_at >= %(start)s AND r.created_at <= %(end)s
                      AND (%(codes)s::text[] IS NULL OR r.category = ANY(%(codes)s::text[]))
                      AND (%(closed)s::boolean IS NULL
                           OR (r.status = 'closed') = %(closed)s::boolean)
                      AND (%(x0)s::float8 IS NULL OR r.geom && ST_MakeEnvelope(
                           %(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)) END)
            ORDER BY r.created_at DESC, r.id DESC LIMIT %(n)s""",
            {"ids": ids, "codes": codes, "start": start, "end": end, "closed": closed,
             "n": limit,
             **dict(zip(("x0", "y0", "x1", "y1"), bbox or (None,) * 4, strict=True))}))

    def by_token(self, token: str) -> Any:
        """The report a client's token stands for, or None."""
        return self.conn.exec_driver_sql(
            "SELECT id, open311_token FROM feedback_report WHERE open311_token = %(t)s "
            "AND status NOT IN ('unconfirmed', 'expired')", {"t": token}).first()

    def place_of_parcel(self, parcel_key: str) -> Any:
        """A point inside the parcel (lon, lat), or None."""
        return self.conn.exec_driver_sql(
            "SELECT ST_X(s.p) AS lon, ST_Y(s.p) AS lat FROM (SELECT ST_PointOnSurface(geom) "
            "AS p FROM parcel WHERE parcel_key = %(k)s) s", {"k": parcel_key}).first()

    def parcels_at_address(self, needle: str) -> list[Any]:
        """Parcels whose whole address is the needle (normalised as the search does), with a
        point inside each: at most two, enough to know whether it names one."""
        return list(self.conn.exec_driver_sql(
            "SELECT parcel_key, ST_X(ST_PointOnSurface(geom)) AS lon, "
            "ST_Y(ST_PointOnSurface(geom)) AS lat FROM parcel WHERE address_search = %(q)s "
            "ORDER BY parcel_key LIMIT 2", {"q": needle}))

    def category_versions(self) -> int:
        """The sum of the categories' versions: grows whenever a service changes."""
        return int(self.conn.exec_driver_sql(
            "SELECT coalesce(sum(version), 0) FROM feedback_category").scalar_one())

    def client_by_hash(self, key_hash: str) -> Any:
        """The client holding the key, or None."""
        return self.conn.exec_driver_sql(
            "SELECT id, name, revoked_at FROM open311_client WHERE key_hash = %(h)s",
            {"h": key_hash}).first()

    def add_client(self, name: str, contact: str | None, key_hash: str, prefix: str,
                   issued_by: int | None) -> Any:
        """A new client, as administrators see it."""
        return self.conn.exec_driver_sql(
            "INSERT INTO open311_client (name, contact, key_hash, key_prefix, issued_by) "
            "VALUES (%(n)s, %(c)s, %(h)s, %(p)s, %(b)s) RETURNING id, name, contact, "
            "key_prefix, issued_by, created_at, revoked_at, revoked_by",
            {"n": name, "c": contact, "h": key_hash, "p": prefix, "b": issued_by}).one()

    def clients(self) -> list[Any]:
        """Every client, newest first (revoked ones too)."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, name, contact, key_prefix, issued_by, created_at, revoked_at, "
            "revoked_by FROM open311_client ORDER BY id DESC"))

    def revoke_client(self, client_id: int, by: int | None) -> bool:
        """Revoke a client's key (once); whether the client exists."""
        found = self.conn.exec_driver_sql(
            "UPDATE open311_client SET revoked_at = coalesce(revoked_at, now()), "
            "revoked_by = coalesce(revoked_by, %(b)s) WHERE id = %(i)s RETURNING id",
            {"i": client_id, "b": by}).first()
        return found is not None
