"""API shapes of sign-up, verification, sign-in and the signed-in person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Requests refuse fields they do not know: a body naming `role` or `owner_id` is a 422.
STRICT = ConfigDict(extra="forbid")


class SignUp(BaseModel):
    """A citizen's sign-up."""

    model_config = STRICT

    identifier: str = Field(min_length=3, max_length=254,
                            description="Phone number (0901234567, +84...) or e-mail address",
                            examples=["0901234567", "an.nguyen@example.vn"])
    password: str = Field(min_length=10, max_length=200)
    display_name: str = Field(min_length=1, max_length=100, examples=["Nguyễn Văn An"])
    lang: str = Field(default="vi", pattern="^(vi|en)$")
    accept_purpose: bool = Field(description="Consent to the stated purpose of processing")


class Verify(BaseModel):
    """The one-time code sent at sign-up."""

    model_config = STRICT

    identifier: str = Field(min_length=3, max_length=254)
    code: str = Field(pattern=r"^\d{6}$")


class SignIn(BaseModel):
    """Credentials."""

    model_config = STRICT

    identifier: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class PersonPublic(BaseModel):
    """The signed-in person, as they see themselves."""

    id: int
    display_name: str
    phone: str | None
    email: str | None
    lang: str
    roles: list[str]
    csrf_token: str | None = Field(
        default=None, description="Send it back in X-CSRF-Token with every write")


class SignUpAccepted(BaseModel):
    """Sign-up taken: a code is on its way."""

    channel: str = Field(examples=["sms"])
    purpose: str = Field(description="Why the data is processed (shown before sign-up)")


class Forgot(BaseModel):
    """Ask for a password-reset code."""

    model_config = STRICT

    identifier: str = Field(min_length=3, max_length=254)


class Reset(BaseModel):
    """A new password with the reset code."""

    model_config = STRICT

    identifier: str = Field(min_length=3, max_length=254)
    code: str = Field(pattern=r"^\d{6}$")
    new_password: str = Field(min_length=10, max_length=200)


class PasswordChange(BaseModel):
    """A new password, with the current one."""

    model_config = STRICT

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200)


class ProfileUpdate(BaseModel):
    """What a person may change about themselves."""

    model_config = STRICT

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    lang: str | None = Field(default=None, pattern="^(vi|en)$")


class Deletion(BaseModel):
    """Delete my account: the password confirms it."""

    model_config = STRICT

    password: str = Field(min_length=1, max_length=200)


class TokenCreate(BaseModel):
    """A bearer token for an integration."""

    model_config = STRICT

    name: str = Field(min_length=1, max_length=100, examples=["Phần mềm một cửa"])
    scopes: list[str] = Field(min_length=1, max_length=10, examples=[["dossier.read"]])
    days: int = Field(default=90, ge=1, le=365)


class TokenPublic(BaseModel):
    """A token as listed (never its secret)."""

    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(BaseModel):
    """A new token: the secret is shown this once."""

    id: int
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown only once")


class GrantIn(BaseModel):
    """A role to grant."""

    model_config = STRICT

    role: str = Field(examples=["officer"])
    department: str | None = Field(default=None, max_length=64, examples=["urban-management"])
    wards: list[str] = Field(default_factory=list, max_length=20, examples=[["27487"]])


class StaffCreate(BaseModel):
    """A staff account made by an administrator."""

    model_config = STRICT

    identifier: str = Field(min_length=3, max_length=254)
    display_name: str = Field(min_length=1, max_length=100)
    grant: GrantIn


class StaffCreated(BaseModel):
    """The new account; a code to set the password went to the person."""

    id: int


class RolesUpdate(BaseModel):
    """All the roles a person should hold."""

    model_config = STRICT

    grants: list[GrantIn] = Field(max_length=6)


class StaffPublic(BaseModel):
    """A staff member as administrators see them."""

    id: int
    display_name: str
    phone: str | None
    email: str | None
    deleted: bool
    grants: list[dict[str, Any]]


class AuditEvent(BaseModel):
    """One audit event."""

    id: int
    at: datetime
    person_id: int | None
    kind: str
    detail: dict[str, Any]


class PushKeys(BaseModel):
    """The keys a browser's subscription encrypts to (base64url)."""

    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(pattern=r"^[A-Za-z0-9_-]{80,100}={0,2}$")
    auth: str = Field(pattern=r"^[A-Za-z0-9_-]{16,30}={0,2}$")


class PushSubscriptionIn(BaseModel):
    """What PushSubscription.toJSON() gives."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(max_length=2000)
    expirationTime: int | None = None  # noqa: N815 - the browser's own name
    keys: PushKeys


class PushEnd(BaseModel):
    """A subscription to end."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(max_length=2000)


class PushKey(BaseModel):
    """The platform's VAPID public key: the applicationServerKey to subscribe with."""

    key: str
