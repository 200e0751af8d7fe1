"""Rules of accounts: identifiers, passwords, one-time codes, sessions, audit."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from accounts import repository
from accounts.oidc import ExternalClaims
from accounts.policy import (
    STAFF_ROLES,
    TOKEN_SCOPES,
    Principal,
    Subject,
    check,
)
from accounts.ratelimit import (
    ANONYMOUS_WRITE,
    CODE_SEND,
    SIGN_IN_ADDRESS,
    SIGN_IN_PAIR,
    RateLimiter,
)
from core.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)
from core.notify import Notifier

PURPOSE = ("Số điện thoại hoặc email và tên của bạn được dùng để đăng nhập, gửi mã xác thực và "
           "liên hệ về hồ sơ, phản ánh của bạn (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15).")
CODE_MINUTES = 10
CODE_ATTEMPTS = 5
SESSION_DAYS = 30
HASHER = PasswordHasher()
# Verifying against this keeps an unknown identifier as slow as a wrong password.
DUMMY_HASH = HASHER.hash("not a password anyone has")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

TOKEN_PREFIX = "cm_"
DELETED_NAME = "(đã xoá)"


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
    person_id: int


@dataclass(frozen=True)
class GrantSpec:
    """A role to grant, with the department and wards it serves."""

    role: str
    department: str | None = None
    wards: tuple[str, ...] = ()


class AccountService:
    """Sign-up, verification, sign-in and out, passwords, one's own data, tokens, staff."""

    def __init__(self, conn: Connection, notifier: Notifier, key: bytes,
                 address: str = "") -> None:
        self.conn = conn
        self.notifier = notifier
        self.key = key  # keys the hashes of one-time codes
        self.address = address  # the client's address, for rate limits only
        self.limits = RateLimiter(conn)

    def _one(self, sql: str, params: dict[str, Any]) -> Any:
        return self.conn.exec_driver_sql(sql, params).first()

    def _exec(self, sql: str, params: dict[str, Any]) -> None:
        self.conn.exec_driver_sql(sql, params)

    def audit(self, kind: str, person_id: int | None, **detail: object) -> None:
        """Append a security event (no personal data in the detail)."""
        repository.audit(self.conn, kind, person_id, **detail)

    def _code_hash(self, person_id: int, purpose: str, code: str) -> str:
        # Keyed: six digits are a million guesses, so a leaked table alone must not reveal them.
        return hmac.new(self.key, f"{person_id}:{purpose}:{code}".encode(), "sha256").hexdigest()

    # -- sign-up and verification ------------------------------------------------------------

    def sign_up(self, identifier: str, password: str, name: str, lang: str,
                accepted: bool) -> str:
        """Create an unverified citizen and send the code; returns the channel used."""
        if not accepted:
            raise InvalidInputError("the purpose of processing must be accepted",
                                    "accept_purpose")
        kind, value = parse_identifier(identifier)
        self.limits.check(ANONYMOUS_WRITE, self.address)
        self.limits.hit(ANONYMOUS_WRITE, self.address)
        channel = "sms" if kind == "phone" else "email"
        # `kind` is 'phone' or 'email' (parse_identifier): a column name, never user text.
        taken = self._one(f"SELECT id, verified_at FROM person WHERE {kind} = %(v)s "
                          "AND deleted_at IS NULL", {"v": value})
        if taken is not None:
            # The same answer as for a new account, so sign-up tells nobody who has one.
            self._already_registered(taken, kind, value, password, name, lang)
            return channel
        try:
            with self.conn.begin_nested():
                person_id = int(self._one(
                    f"INSERT INTO person ({kind}, password_hash, display_name, lang) "
                    "VALUES (%(v)s, %(h)s, %(n)s, %(l)s) RETURNING id",
                    {"v": value, "h": HASHER.hash(password), "n": name.strip(), "l": lang},
                )[0])
        except IntegrityError:  # the same identifier signed up a moment ago, concurrently
            return channel
        self._exec("INSERT INTO role_grant (person_id, role) VALUES (%(p)s, 'citizen')",
                   {"p": person_id})
        self._send_code(person_id, kind, value, "verify")
        self.audit("sign_up", person_id)
        return channel

    def _already_registered(self, taken: Any, kind: str, value: str, password: str, name: str,
                            lang: str) -> None:
        if taken.verified_at is None:
            # Never verified, so never used: whoever proves the phone or e-mail now gets it.
            self._exec("UPDATE person SET password_hash = %(h)s, display_name = %(n)s, "
                       "lang = %(l)s WHERE id = %(p)s",
                       {"h": HASHER.hash(password), "n": name.strip(), "l": lang,
                        "p": taken.id})
            self._send_code(int(taken.id), kind, value, "verify")
            return
        HASHER.hash(password)  # as slow as creating an account: timing tells nothing either
        self.limits.check(CODE_SEND, value)
        self.limits.hit(CODE_SEND, value)
        self.notifier.send("sms" if kind == "phone" else "email", value,
                           "civicmap: số này đã có tài khoản. Quên mật khẩu? Dùng "
                           "\"Quên mật khẩu\" để đặt lại.")
        self.audit("sign_up_existing", int(taken.id))

    def _send_code(self, person_id: int, kind: str, value: str, purpose: str) -> None:
        self.limits.check(CODE_SEND, value)
        self.limits.hit(CODE_SEND, value)
        code = f"{secrets.randbelow(1_000_000):06d}"
        self._exec(
            "INSERT INTO one_time_code (person_id, purpose, code_hash, expires_at) VALUES "
            "(%(p)s, %(u)s, %(h)s, now() + make_interval(mins => %(m)s))",
            {"p": person_id, "u": purpose, "h": self._code_hash(person_id, purpose, code),
             "m": CODE_MINUTES},
        )
        what = "mã xác thực" if purpose == "verify" else "mã đặt lại mật khẩu"
        self.notifier.send("sms" if kind == "phone" else "email", value,
                           f"civicmap: {what} của bạn là {code} (hiệu lực {CODE_MINUTES} phút).")

    def _use_code(self, identifier: str, purpose: str, code: str) -> int | DomainError:
        """The person whose latest live code this is; a wrong code is returned, not raised,
        so that its counted attempt is committed."""
        kind, value = parse_identifier(identifier)
        row = self._one(
            f"""
            SELECT c.id, c.person_id, c.code_hash, c.attempts FROM one_time_code c
            JOIN person p ON p.id = c.person_id
            WHERE p.{kind} = %(v)s AND c.purpose = %(u)s AND c.used_at IS NULL
              AND c.expires_at > now() AND p.deleted_at IS NULL
            ORDER BY c.id DESC LIMIT 1
            """,
            {"v": value, "u": purpose},
        )
        if row is None or row.attempts >= CODE_ATTEMPTS:
            raise InvalidInputError("no valid code: ask for a new one", "code")
        if not hmac.compare_digest(row.code_hash,
                                   self._code_hash(row.person_id, purpose, code)):
            self._exec("UPDATE one_time_code SET attempts = attempts + 1 WHERE id = %(id)s",
                       {"id": row.id})
            self.audit(f"{purpose}_code_failed", row.person_id)
            return InvalidInputError("the code does not match", "code")
        self._exec("UPDATE one_time_code SET used_at = now() WHERE id = %(id)s", {"id": row.id})
        return int(row.person_id)

    def verify(self, identifier: str, code: str) -> DomainError | None:
        """Mark the person verified when the latest unexpired code matches."""
        person_id = self._use_code(identifier, "verify", code)
        if isinstance(person_id, DomainError):
            return person_id
        self._exec("UPDATE person SET verified_at = now() WHERE id = %(p)s", {"p": person_id})
        self.audit("verified", person_id)
        return None

    # -- sign-in and out -----------------------------------------------------------------------

    def sign_in(self, identifier: str, password: str,
                old_token: str | None = None) -> Session | DomainError:
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
        if not self._password_matches(row.password_hash if row else None, password):
            self.limits.hit(SIGN_IN_PAIR, self.address, value)
            self.limits.hit(SIGN_IN_ADDRESS, self.address)
            self.audit("sign_in_failed", row.id if row else None)
            return wrong
        if row.verified_at is None:
            return ForbiddenError("verify the code sent to you first", "identifier")
        if old_token:  # rotation: whatever session the browser carried ends here
            self._revoke_session(old_token)
        session = self._new_session(int(row.id))
        self.audit("sign_in", row.id)
        return session

    def sign_in_external(self, claims: ExternalClaims, old_token: str | None = None) -> Session:
        """A session for the person an OpenID Connect provider vouches for: the one linked to
        the (issuer, subject), else the account with the phone or e-mail the provider verified,
        else a new verified citizen."""
        row = self._one("SELECT e.person_id FROM external_identity e JOIN person p "
                        "ON p.id = e.person_id WHERE e.issuer = %(i)s AND e.subject = %(s)s "
                        "AND p.deleted_at IS NULL", {"i": claims.issuer, "s": claims.subject})
        person_id = int(row.person_id) if row else None
        if person_id is None:
            for kind, value in (("phone", claims.phone), ("email", claims.email)):
                if value and person_id is None:
                    found = self._one(f"SELECT id FROM person WHERE {kind} = %(v)s "
                                      "AND deleted_at IS NULL", {"v": value})
                    person_id = int(found.id) if found else None
            if person_id is None:
                person_id = int(self._one(
                    "INSERT INTO person (phone, email, password_hash, display_name, "
                    "verified_at) VALUES (%(ph)s, %(em)s, '!', %(n)s, now()) RETURNING id",
                    {"ph": claims.phone, "em": claims.email,
                     "n": (claims.name or "Công dân").strip()[:100]})[0])
                self._exec("INSERT INTO role_grant (person_id, role) VALUES (%(p)s, 'citizen')",
                           {"p": person_id})
                self.audit("sign_up", person_id, via="oidc")
            self._exec("INSERT INTO external_identity (issuer, subject, person_id) VALUES "
                       "(%(i)s, %(s)s, %(p)s)",
                       {"i": claims.issuer, "s": claims.subject, "p": person_id})
        self._exec("UPDATE person SET verified_at = coalesce(verified_at, now()) "
                   "WHERE id = %(p)s", {"p": person_id})
        if old_token:
            self._revoke_session(old_token)
        self.audit("sign_in", person_id, via="oidc", issuer=claims.issuer)
        return self._new_session(person_id)

    @staticmethod
    def _password_matches(stored: str | None, password: str) -> bool:
        # An unknown identifier costs the same argon2 time as a wrong password.
        try:
            HASHER.verify(stored or DUMMY_HASH, password)
        except (VerifyMismatchError, InvalidHashError):
            return False
        return stored is not None

    def _new_session(self, person_id: int) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24), person_id)
        self._exec(
            "INSERT INTO web_session (token_hash, person_id, csrf_token, expires_at) VALUES "
            "(%(t)s, %(p)s, %(c)s, now() + make_interval(days => %(d)s))",
            {"t": repository.sha256(session.token), "p": person_id, "c": session.csrf_token,
             "d": SESSION_DAYS},
        )
        return session

    def _revoke_session(self, token: str) -> None:
        self._exec("UPDATE web_session SET revoked_at = now() WHERE token_hash = %(t)s "
                   "AND revoked_at IS NULL", {"t": repository.sha256(token)})

    def _end_everything(self, person_id: int) -> None:
        """Every session and every API token of the person ends."""
        self._exec("UPDATE web_session SET revoked_at = now() WHERE person_id = %(p)s "
                   "AND revoked_at IS NULL", {"p": person_id})
        self._exec("UPDATE api_token SET revoked_at = now() WHERE person_id = %(p)s "
                   "AND revoked_at IS NULL", {"p": person_id})

    def sign_out(self, principal: Principal, token: str | None, everywhere: bool) -> None:
        """End this session, or every session and token of the person."""
        assert principal.person_id is not None
        if everywhere:
            self._end_everything(principal.person_id)
        elif token:
            self._revoke_session(token)
        self.audit("sign_out", principal.person_id, everywhere=everywhere)

    def me(self, person_id: int) -> Any:
        """The person as they see themselves."""
        return self._one(
            """
            SELECT p.id, p.display_name, p.phone, p.email, p.lang,
                   ARRAY(SELECT role FROM role_grant g WHERE g.person_id = p.id ORDER BY role)
                       AS roles
            FROM person p WHERE p.id = %(p)s AND p.deleted_at IS NULL
            """,
            {"p": person_id},
        )

    # -- passwords -----------------------------------------------------------------------------

    def forgot_password(self, identifier: str) -> None:
        """Send a reset code when the account exists; the answer is the same either way."""
        kind, value = parse_identifier(identifier)
        row = self._one(f"SELECT id FROM person WHERE {kind} = %(v)s AND deleted_at IS NULL",
                        {"v": value})
        if row is None:  # count the attempt all the same: a 429 must not reveal anything
            self.limits.check(CODE_SEND, value)
            self.limits.hit(CODE_SEND, value)
            return
        self._send_code(int(row.id), kind, value, "reset")
        self.audit("reset_code_sent", row.id)

    def reset_password(self, identifier: str, code: str, password: str) -> DomainError | None:
        """A new password with a reset code; every session and token of the person ends."""
        person_id = self._use_code(identifier, "reset", code)
        if isinstance(person_id, DomainError):
            return person_id
        # A reset code proves the phone or e-mail as well as a sign-up code does.
        self._exec("UPDATE person SET password_hash = %(h)s, "
                   "verified_at = coalesce(verified_at, now()) WHERE id = %(p)s",
                   {"h": HASHER.hash(password), "p": person_id})
        self._end_everything(person_id)
        self.audit("password_reset", person_id)
        return None

    def change_password(self, principal: Principal, current: str,
                        new: str) -> Session | DomainError:
        """A new password; every session and token ends and this browser gets a new session."""
        assert principal.person_id is not None
        stored = self._one("SELECT password_hash FROM person WHERE id = %(p)s",
                           {"p": principal.person_id})
        if not self._password_matches(stored.password_hash if stored else None, current):
            self.audit("password_change_failed", principal.person_id)
            return UnauthorizedError("the current password is wrong", "current_password")
        self._exec("UPDATE person SET password_hash = %(h)s WHERE id = %(p)s",
                   {"h": HASHER.hash(new), "p": principal.person_id})
        self._end_everything(principal.person_id)
        self.audit("password_changed", principal.person_id)
        return self._new_session(principal.person_id)

    # -- one's own data ------------------------------------------------------------------------

    def update_profile(self, person_id: int, name: str | None, lang: str | None) -> None:
        """Display name and language preference."""
        self._exec("UPDATE person SET display_name = coalesce(%(n)s, display_name), "
                   "lang = coalesce(%(l)s, lang) WHERE id = %(p)s",
                   {"n": name.strip() if name else None, "l": lang, "p": person_id})

    def export(self, person_id: int) -> dict[str, Any]:
        """Everything the platform keeps about the person, as JSON-ready data."""
        row = self._one(
            """
            SELECT json_build_object(
              'person', (SELECT json_build_object('id', id, 'phone', phone, 'email', email,
                 'display_name', display_name, 'lang', lang, 'verified_at', verified_at,
                 'created_at', created_at) FROM person WHERE id = %(p)s),
              'roles', (SELECT coalesce(json_agg(json_build_object('role', role,
                 'department', department, 'wards', wards) ORDER BY role), '[]')
                 FROM role_grant WHERE person_id = %(p)s),
              'sessions', (SELECT coalesce(json_agg(json_build_object('created_at', created_at,
                 'expires_at', expires_at, 'revoked_at', revoked_at) ORDER BY created_at), '[]')
                 FROM web_session WHERE person_id = %(p)s),
              'api_tokens', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name,
                 'scopes', scopes, 'created_at', created_at, 'revoked_at', revoked_at)
                 ORDER BY id), '[]') FROM api_token WHERE person_id = %(p)s),
              'external_identities', (SELECT coalesce(json_agg(json_build_object(
                 'issuer', issuer, 'created_at', created_at)), '[]')
                 FROM external_identity WHERE person_id = %(p)s),
              'dossiers', (SELECT coalesce(json_agg(json_build_object('id', id, 'code', code,
                 'procedure_id', procedure_id, 'parcel_key', parcel_key, 'status', status,
                 'applicant', applicant, 'answers', answers, 'created_at', created_at,
                 'submitted_at', submitted_at) ORDER BY id), '[]')
                 FROM dossier WHERE owner_id = %(p)s),
              'security_events', (SELECT coalesce(json_agg(json_build_object('at', at,
                 'kind', kind) ORDER BY id), '[]') FROM audit_event WHERE person_id = %(p)s)
            ) AS data
            """,
            {"p": person_id},
        )
        data: dict[str, Any] = row.data
        data["purpose"] = PURPOSE
        return data

    def delete(self, principal: Principal, password: str) -> DomainError | None:
        """Anonymise the person: identifiers, name and password go; dossiers stay, as the
        legal record, under a person with no contact details."""
        assert principal.person_id is not None
        stored = self._one("SELECT password_hash FROM person WHERE id = %(p)s",
                           {"p": principal.person_id})
        if not self._password_matches(stored.password_hash if stored else None, password):
            return UnauthorizedError("the password is wrong", "password")
        self._end_everything(principal.person_id)
        self._exec("UPDATE person SET phone = NULL, email = NULL, display_name = %(n)s, "
                   "password_hash = '!', deleted_at = now() WHERE id = %(p)s",
                   {"n": DELETED_NAME, "p": principal.person_id})
        self._exec("DELETE FROM external_identity WHERE person_id = %(p)s",
                   {"p": principal.person_id})
        self._exec("DELETE FROM one_time_code WHERE person_id = %(p)s",
                   {"p": principal.person_id})
        self._exec("DELETE FROM role_grant WHERE person_id = %(p)s", {"p": principal.person_id})
        self.audit("account_deleted", principal.person_id)
        return None

    # -- API tokens ----------------------------------------------------------------------------

    def issue_token(self, principal: Principal, name: str, scopes: list[str],
                    days: int) -> tuple[int, str]:
        """A bearer token limited to `scopes` (each one the person may do); shown once."""
        assert principal.person_id is not None
        if principal.via != "cookie":
            raise ForbiddenError("tokens are issued from a signed-in session only")
        for scope in scopes:
            if scope not in TOKEN_SCOPES:
                raise InvalidInputError(f"unknown scope {scope!r}", "scopes")
            check(principal, scope)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = int(self._one(
            "INSERT INTO api_token (person_id, name, token_hash, scopes, expires_at) VALUES "
            "(%(p)s, %(n)s, %(h)s, %(s)s, now() + make_interval(days => %(d)s)) RETURNING id",
            {"p": principal.person_id, "n": name.strip(), "h": repository.sha256(token),
             "s": sorted(set(scopes)), "d": days},
        )[0])
        self.audit("token_issued", principal.person_id, token=token_id, scopes=sorted(scopes))
        return token_id, token

    def tokens(self, principal: Principal) -> list[Any]:
        """The person's tokens (never the secret)."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, name, scopes, created_at, expires_at, last_used_at, revoked_at "
            "FROM api_token WHERE person_id = %(p)s ORDER BY id",
            {"p": principal.person_id},
        ).all())

    def revoke_token(self, principal: Principal, token_id: int) -> None:
        """Revoke one of one's own tokens."""
        row = self._one("SELECT person_id FROM api_token WHERE id = %(i)s", {"i": token_id})
        if row is None:
            raise NotFoundError("no such token", "token_id")
        check(principal, "token.manage", Subject(owner_id=int(row.person_id)))
        self._exec("UPDATE api_token SET revoked_at = coalesce(revoked_at, now()) "
                   "WHERE id = %(i)s", {"i": token_id})
        self.audit("token_revoked", principal.person_id, token=token_id)

    # -- staff ---------------------------------------------------------------------------------

    def create_staff(self, identifier: str, name: str, grant: GrantSpec,
                     created_by: int | None = None,
                     send_code: bool = False) -> tuple[int, str | None]:
        """A verified staff account (staff never sign themselves up). From the API a reset code
        goes to the person, who sets their own password; from the CLI a temporary password is
        returned to hand over."""
        if grant.role not in STAFF_ROLES:
            raise InvalidInputError(f"role must be one of {', '.join(STAFF_ROLES)}", "role")
        self._check_grant(grant)
        kind, value = parse_identifier(identifier)
        password = secrets.token_urlsafe(12)
        # The unique phone or e-mail decides, in the statement: a read first would lose to a
        # twin request.
        made = self._one(
            f"INSERT INTO person ({kind}, password_hash, display_name, verified_at) "
            "VALUES (%(v)s, %(h)s, %(n)s, now()) ON CONFLICT DO NOTHING RETURNING id",
            {"v": value, "h": HASHER.hash(password), "n": name.strip()})
        if made is None:
            raise ConflictError(f"this {kind} already has an account", "identifier")
        person_id = int(made[0])
        self._insert_grant(person_id, grant)
        self.audit("staff_created", created_by, person=person_id, role=grant.role)
        if send_code:
            self._send_code(person_id, kind, value, "reset")
            return person_id, None
        return person_id, password

    def _check_grant(self, grant: GrantSpec) -> None:
        if grant.role not in (*STAFF_ROLES, "citizen"):
            raise InvalidInputError(f"role must be citizen or one of {', '.join(STAFF_ROLES)}",
                                    "role")
        if grant.role in ("officer", "leader") and not grant.department:
            raise InvalidInputError(f"an {grant.role} belongs to a department", "department")
        if grant.role == "officer" and not grant.wards:
            raise InvalidInputError("an officer serves at least one ward", "wards")
        for ward in grant.wards:
            if not self._one("SELECT 1 FROM admin_unit WHERE level = 'ward' AND code = %(c)s "
                             "AND valid_to IS NULL", {"c": ward}):
                raise InvalidInputError(f"unknown current ward {ward!r}", "wards")

    def _insert_grant(self, person_id: int, grant: GrantSpec) -> None:
        self._exec(
            "INSERT INTO role_grant (person_id, role, department, wards) VALUES "
            "(%(p)s, %(r)s, %(d)s, %(w)s)",
            {"p": person_id, "r": grant.role, "d": grant.department,
             "w": list(grant.wards) or None},
        )

    def staff(self) -> list[Any]:
        """Everyone holding a staff role, with their grants."""
        return list(self.conn.exec_driver_sql(
            """
            SELECT p.id, p.display_name, p.phone, p.email, p.deleted_at IS NOT NULL AS deleted,
                   json_agg(json_build_object('role', g.role, 'department', g.department,
                            'wards', coalesce(g.wards, '{}')) ORDER BY g.role) AS grants
            FROM person p JOIN role_grant g ON g.person_id = p.id
            WHERE p.id IN (SELECT person_id FROM role_grant WHERE role <> 'citizen')
            GROUP BY p.id ORDER BY p.id
            """,
            {},
        ).all())

    def set_roles(self, admin: Principal, person_id: int, grants: list[GrantSpec]) -> None:
        """Replace a person's roles; an administrator cannot drop their own administration."""
        # Locked: two replacements at once run one after the other, not interleaved.
        if not self._one("SELECT 1 FROM person WHERE id = %(p)s AND deleted_at IS NULL "
                         "FOR UPDATE", {"p": person_id}):
            raise NotFoundError("no such person", "person_id")
        for grant in grants:
            self._check_grant(grant)
        roles = [g.role for g in grants]
        if len(set(roles)) != len(roles):
            raise InvalidInputError("each role at most once", "grants")
        if person_id == admin.person_id and "administrator" not in roles:
            raise ConflictError("you cannot remove your own administrator role", "grants")
        before = [r[0] for r in self.conn.exec_driver_sql(
            "SELECT role FROM role_grant WHERE person_id = %(p)s ORDER BY role",
            {"p": person_id})]
        self._exec("DELETE FROM role_grant WHERE person_id = %(p)s", {"p": person_id})
        for grant in grants:
            self._insert_grant(person_id, grant)
        # New roles take effect at once; old sessions keep working with the new grants.
        self.audit("role_change", admin.person_id, person=person_id, before=before,
                   after=sorted(roles))

    def audit_events(self, kind: str | None, person_id: int | None, since: Any,
                     limit: int) -> list[Any]:
        """Audit events, newest first."""
        return list(self.conn.exec_driver_sql(
            "SELECT id, at, person_id, kind, detail FROM audit_event "
            "WHERE (%(k)s::text IS NULL OR kind = %(k)s) "
            "AND (%(p)s::bigint IS NULL OR person_id = %(p)s) "
            "AND (%(s)s::timestamptz IS NULL OR at >= %(s)s) "
            "ORDER BY id DESC LIMIT %(n)s",
            {"k": kind, "p": person_id, "s": since, "n": limit},
        ).all())
