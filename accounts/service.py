"""Rules of accounts: identifiers, passwords, one-time codes, sessions, audit."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from accounts.notify import Notifier
from accounts.ratelimit import (
    ANONYMOUS_WRITE,
    CODE_SEND,
    SIGN_IN_ADDRESS,
    SIGN_IN_PAIR,
    RateLimiter,
)
from gisapi.errors import ConflictError, DomainError, InvalidInputError

PURPOSE = ("Số điện thoại hoặc email và tên của bạn được dùng để đăng nhập, gửi mã xác thực và "
           "liên hệ về hồ sơ, phản ánh của bạn (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15).")
STAFF_ROLES = ("officer", "leader", "planner", "administrator")
CODE_MINUTES = 10
CODE_ATTEMPTS = 5
SESSION_DAYS = 30
HASHER = PasswordHasher()
# Verifying against this keeps an unknown identifier as slow as a wrong password.
DUMMY_HASH = HASHER.hash("not a password anyone has")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class UnauthorizedError(DomainError):
    """Not signed in, or the credentials do not match."""

    status_code = 401


class ForbiddenError(DomainError):
    """Signed in, but not allowed."""

    status_code = 403


def sha256(text: str) -> str:
    """Hex SHA-256: how tokens and codes are stored (never in clear)."""
    return hashlib.sha256(text.encode()).hexdigest()


def parse_identifier(raw: str) -> tuple[str, str]:
    """('email', address) or ('phone', +84...) from what the person typed."""
    text = raw.strip()
    if "@" in text:
        if not EMAIL.match(text):
            raise InvalidInputError("not an e-mail address", "identifier")
        return "email", text.lower()
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    if not re.fullmatch(r"0\d{9}", digits):
        raise InvalidInputError("not a Vietnamese phone number (10 digits, 0…)", "identifier")
    return "phone", "+84" + digits[1:]


@dataclass(frozen=True)
class Session:
    """A fresh session: the cookie value and its CSRF token."""

    token: str
    csrf_token: str


class AccountService:
    """Sign-up, verification, sign-in and sign-out."""

    def __init__(self, conn: Connection, notifier: Notifier, address: str = "") -> None:
        self.conn = conn
        self.notifier = notifier
        self.address = address  # the client's address, for rate limits only
        self.limits = RateLimiter(conn)

    def _one(self, sql: str, params: dict[str, Any]) -> Any:
        return self.conn.exec_driver_sql(sql, params).first()

    def audit(self, kind: str, person_id: int | None, **detail: object) -> None:
        """Append a security event (no personal data in the detail)."""
        self.conn.exec_driver_sql(
            "INSERT INTO audit_event (person_id, kind, detail) VALUES "
            "(%(p)s, %(k)s, %(d)s::jsonb)",
            {"p": person_id, "k": kind, "d": json.dumps(detail)},
        )

    def sign_up(self, identifier: str, password: str, name: str, lang: str,
                accepted: bool) -> str:
        """Create an unverified citizen and send the code; returns the channel used."""
        if not accepted:
            raise InvalidInputError("the purpose of processing must be accepted",
                                    "accept_purpose")
        kind, value = parse_identifier(identifier)
        self.limits.check(ANONYMOUS_WRITE, self.address)
        self.limits.hit(ANONYMOUS_WRITE, self.address)
        # `kind` is 'phone' or 'email' (parse_identifier): a column name, never user text.
        if self._one(f"SELECT 1 FROM person WHERE {kind} = %(v)s", {"v": value}):
            raise ConflictError(f"this {kind} already has an account", "identifier")
        try:
            person_id = int(self._one(
                f"INSERT INTO person ({kind}, password_hash, display_name, lang) "
                "VALUES (%(v)s, %(h)s, %(n)s, %(l)s) RETURNING id",
                {"v": value, "h": HASHER.hash(password), "n": name.strip(), "l": lang},
            )[0])
        except IntegrityError:  # the same identifier signed up a moment ago, concurrently
            raise ConflictError(f"this {kind} already has an account", "identifier") from None
        self.conn.exec_driver_sql(
            "INSERT INTO role_grant (person_id, role) VALUES (%(p)s, 'citizen')",
            {"p": person_id})
        self._send_code(person_id, kind, value, "verify")
        self.audit("sign_up", person_id)
        return "sms" if kind == "phone" else "email"

    def create_staff(self, identifier: str, name: str, role: str, department: str | None,
                     wards: list[str], created_by: int | None = None) -> tuple[int, str]:
        """A verified staff account and its temporary password (staff never sign themselves up)."""
        if role not in STAFF_ROLES:
            raise InvalidInputError(f"role must be one of {', '.join(STAFF_ROLES)}", "role")
        if role in ("officer", "leader") and not department:
            raise InvalidInputError(f"an {role} belongs to a department", "department")
        kind, value = parse_identifier(identifier)
        if self._one(f"SELECT 1 FROM person WHERE {kind} = %(v)s", {"v": value}):
            raise ConflictError(f"this {kind} already has an account", "identifier")
        password = secrets.token_urlsafe(12)
        person_id = int(self._one(
            f"INSERT INTO person ({kind}, password_hash, display_name, verified_at) "
            "VALUES (%(v)s, %(h)s, %(n)s, now()) RETURNING id",
            {"v": value, "h": HASHER.hash(password), "n": name.strip()},
        )[0])
        self.conn.exec_driver_sql(
            "INSERT INTO role_grant (person_id, role, department, wards) VALUES "
            "(%(p)s, %(r)s, %(d)s, %(w)s)",
            {"p": person_id, "r": role, "d": department, "w": wards or None},
        )
        self.audit("staff_created", created_by, person=person_id, role=role)
        return person_id, password

    def _send_code(self, person_id: int, kind: str, value: str, purpose: str) -> None:
        self.limits.check(CODE_SEND, value)
        self.limits.hit(CODE_SEND, value)
        code = f"{secrets.randbelow(1_000_000):06d}"
        self.conn.exec_driver_sql(
            "INSERT INTO one_time_code (person_id, purpose, code_hash, expires_at) VALUES "
            "(%(p)s, %(u)s, %(h)s, now() + make_interval(mins => %(m)s))",
            {"p": person_id, "u": purpose, "h": sha256(f"{person_id}:{code}"),
             "m": CODE_MINUTES},
        )
        self.notifier.send("sms" if kind == "phone" else "email", value,
                           f"civicmap: mã xác thực của bạn là {code} "
                           f"(hiệu lực {CODE_MINUTES} phút).")

    def verify(self, identifier: str, code: str) -> DomainError | None:
        """Mark the person verified when the latest unexpired code matches.

        A wrong code is returned, not raised: its counted attempt must be committed.
        """
        kind, value = parse_identifier(identifier)
        row = self._one(
            f"""
            SELECT c.id, c.person_id, c.code_hash, c.attempts FROM one_time_code c
            JOIN person p ON p.id = c.person_id
            WHERE p.{kind} = %(v)s AND c.purpose = 'verify' AND c.used_at IS NULL
              AND c.expires_at > now()
            ORDER BY c.id DESC LIMIT 1
            """,
            {"v": value},
        )
        if row is None or row.attempts >= CODE_ATTEMPTS:
            raise InvalidInputError("no valid code: ask for a new one", "code")
        if not hmac.compare_digest(row.code_hash, sha256(f"{row.person_id}:{code}")):
            self.conn.exec_driver_sql(
                "UPDATE one_time_code SET attempts = attempts + 1 WHERE id = %(id)s",
                {"id": row.id})
            self.audit("verify_failed", row.person_id)
            return InvalidInputError("the code does not match", "code")
        self.conn.exec_driver_sql("UPDATE one_time_code SET used_at = now() WHERE id = %(id)s",
                                  {"id": row.id})
        self.conn.exec_driver_sql(
            "UPDATE person SET verified_at = now() WHERE id = %(p)s", {"p": row.person_id})
        self.audit("verified", row.person_id)
        return None

    def sign_in(self, identifier: str, password: str) -> Session | DomainError:
        """A new session for matching credentials; a failure is returned, not raised, so that
        its audit event and rate-limit hits are committed with the answer."""
        wrong = UnauthorizedError("the phone/e-mail or the password is wrong")
        try:
            kind, value = parse_identifier(identifier)
        except InvalidInputError:
            return wrong
        self.limits.check(SIGN_IN_PAIR, self.address, value)
        self.limits.check(SIGN_IN_ADDRESS, self.address)
        row = self._one(
            f"SELECT id, password_hash, verified_at FROM person WHERE {kind} = %(v)s "
            "AND deleted_at IS NULL", {"v": value})
        try:
            HASHER.verify(row.password_hash if row else DUMMY_HASH, password)
            if row is None:
                raise VerifyMismatchError
        except (VerifyMismatchError, InvalidHashError):
            self.limits.hit(SIGN_IN_PAIR, self.address, value)
            self.limits.hit(SIGN_IN_ADDRESS, self.address)
            self.audit("sign_in_failed", row.id if row else None)
            return wrong
        if row.verified_at is None:
            return ForbiddenError("verify the code sent to you first", "identifier")
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24))
        self.conn.exec_driver_sql(
            "INSERT INTO web_session (token_hash, person_id, csrf_token, expires_at) VALUES "
            "(%(t)s, %(p)s, %(c)s, now() + make_interval(days => %(d)s))",
            {"t": sha256(session.token), "p": row.id, "c": session.csrf_token,
             "d": SESSION_DAYS},
        )
        self.audit("sign_in", row.id)
        return session

    def current(self, token: str | None) -> Any:
        """The person and session behind a cookie, or a 401."""
        if not token:
            raise UnauthorizedError("sign in first")
        row = self._one(
            """
            SELECT p.id, p.display_name, p.phone, p.email, p.lang, s.csrf_token,
                   ARRAY(SELECT role FROM role_grant g WHERE g.person_id = p.id ORDER BY role)
                       AS roles
            FROM web_session s JOIN person p ON p.id = s.person_id
            WHERE s.token_hash = %(t)s AND s.revoked_at IS NULL AND s.expires_at > now()
              AND p.deleted_at IS NULL
            """,
            {"t": sha256(token)},
        )
        if row is None:
            raise UnauthorizedError("the session has ended: sign in again")
        return row

    def sign_out(self, token: str | None, csrf: str | None, everywhere: bool) -> None:
        """End this session (or all of the person's), CSRF-checked like every cookie write."""
        person = self.current(token)
        if not csrf or not hmac.compare_digest(csrf, person.csrf_token):
            raise ForbiddenError("missing or wrong X-CSRF-Token", "X-CSRF-Token")
        if everywhere:
            self.conn.exec_driver_sql(
                "UPDATE web_session SET revoked_at = now() WHERE person_id = %(p)s "
                "AND revoked_at IS NULL", {"p": person.id})
        else:
            self.conn.exec_driver_sql(
                "UPDATE web_session SET revoked_at = now() WHERE token_hash = %(t)s",
                {"t": sha256(token or "")})
        self.audit("sign_out", person.id, everywhere=everywhere)
