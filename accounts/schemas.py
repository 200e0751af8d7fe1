"""API shapes of sign-up, verification, sign-in and the signed-in person."""

from __future__ import annotations

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
    csrf_token: str = Field(description="Send it back in X-CSRF-Token with every write")


class SignUpAccepted(BaseModel):
    """Sign-up taken: a code is on its way."""

    channel: str = Field(examples=["sms"])
    purpose: str = Field(description="Why the data is processed (shown before sign-up)")
