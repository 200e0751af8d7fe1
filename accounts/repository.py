"""SQL of accounts: who is behind a cookie or a token, and their grants."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection

from accounts.policy import Grant


def sha256(text: str) -> str:
    """Hex SHA-256: how session and API tokens are stored (never in clear)."""
    return hashlib.sha256(text.encode()).hexdigest()


def grants(conn: Connection, person_id: int) -> tuple[Grant, ...]:
    """The roles a person holds, with department and wards."""
    rows = conn.exec_driver_sql(
        "SELECT role, department, wards FROM role_grant WHERE person_id = %(p)s ORDER BY role",
        {"p": person_id},
    ).all()
    return tuple(Grant(r.role, r.department, tuple(r.wards or ())) for r in rows)


def serves(conn: Connection, person_id: int, department: str) -> bool:
    """Whether the person is an officer or leader of the department (work may be theirs)."""
    return conn.exec_driver_sql(
        "SELECT 1 FROM role_grant WHERE person_id = %(p)s AND role IN ('officer', 'leader') "
        "AND department = %(d)s", {"p": person_id, "d": department}).first() is not None


def session_person(conn: Connection, token: str) -> Any:
    """(person_id, csrf_token, grants) of a live session, or None: one round trip, on every
    signed-in request."""
    row = conn.exec_driver_sql(
        """
        SELECT s.person_id, s.csrf_token,
               (SELECT coalesce(json_agg(json_build_array(g.role, g.department, g.wards)
                                         ORDER BY g.role), '[]')
                FROM role_grant g WHERE g.person_id = s.person_id) AS grants
        FROM web_session s JOIN person p ON p.id = s.person_id
        WHERE s.token_hash = %(t)s AND s.revoked_at IS NULL AND s.expires_at > now()
          AND p.deleted_at IS NULL
        """,
        {"t": sha256(token)},
    ).first()
    if row is None:
        return None
    held = tuple(Grant(role, department, tuple(wards or ())) for role, department, wards
                 in row.grants)
    return SimpleNamespace(person_id=row.person_id, csrf_token=row.csrf_token, grants=held)


def token_person(conn: Connection, token: str) -> Any:
    """(id, person_id, scopes) of a live API token, or None; marks it used."""
    return conn.exec_driver_sql(
        """
        UPDATE api_token t SET last_used_at = now() FROM person p
        WHERE t.token_hash = %(t)s AND t.revoked_at IS NULL AND t.expires_at > now()
          AND p.id = t.person_id AND p.deleted_at IS NULL
        RETURNING t.id, t.person_id, t.scopes
        """,
        {"t": sha256(token)},
    ).first()


def audit(conn: Connection, kind: str, person_id: int | None, **detail: object) -> None:
    """Append an audit event (no personal data in the detail)."""
    conn.exec_driver_sql(
        "INSERT INTO audit_event (person_id, kind, detail) VALUES (%(p)s, %(k)s, %(d)s::jsonb)",
        {"p": person_id, "k": kind, "d": json.dumps(detail)},
    )
