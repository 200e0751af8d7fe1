"""Sign-in through an OpenID Connect provider (VNeID, a city SSO): the interface every adapter
implements, and the sealed state that ties a callback to the browser that started it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import DomainError, NotFoundError

STATE_SECONDS = 600


class ExternalSignInError(DomainError):
    """The callback cannot be trusted or used (state, code, token): start again."""



@dataclass(frozen=True)
class ExternalClaims:
    """What a provider vouches for, after the adapter verified its ID token."""

    issuer: str
    subject: str
    name: str | None = None
    phone: str | None = None  # +84..., only when the provider verified it
    email: str | None = None  # only when the provider verified it


class IdentityProvider(Protocol):
    """One OpenID Connect provider (authorization code flow with PKCE).

    An adapter does discovery, builds the authorization URL, exchanges the code at the token
    endpoint and verifies the ID token (signature by the provider's keys, issuer, audience,
    expiry, nonce) before returning claims; nothing unverified reaches the caller.
    """

    name: str
    issuer: str

    def authorization_url(self, redirect_uri: str, state: str, nonce: str,
                          code_challenge: str) -> str:
        """Where to send the browser."""

    def exchange(self, code: str, redirect_uri: str, code_verifier: str,
                 nonce: str) -> ExternalClaims:
        """Verified claims for the code, or ExternalSignInError."""


@dataclass(frozen=True)
class Start:
    """A started sign-in: the URL to redirect to and the sealed state for the cookie."""

    url: str
    sealed: str


def pkce_challenge(verifier: str) -> str:
    """S256 code challenge of a PKCE verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def seal(key: bytes, data: dict[str, Any]) -> str:
    """Data with an HMAC, for a cookie the browser keeps but cannot change."""
    body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
    mac = hmac.new(key, body.encode(), "sha256").hexdigest()
    return f"{body}.{mac}"


def unseal(key: bytes, sealed: str | None) -> dict[str, Any]:
    """The data of a sealed value that is intact and fresh, else ExternalSignInError."""
    body, _, mac = (sealed or "").partition(".")
    good = hmac.new(key, body.encode(), "sha256").hexdigest()
    if not body or not hmac.compare_digest(mac, good):
        raise ExternalSignInError("the sign-in was not started here: start again", "state")
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body))
    if data.get("at", 0) + STATE_SECONDS < time.time():
        raise ExternalSignInError("the sign-in took too long: start again", "state")
    return data


def safe_next(target: str | None) -> str:
    """A local path to return to; anything else (another site, //host) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class Providers:
    """The configured providers by name (none by default)."""

    def __init__(self, providers: list[IdentityProvider] | None = None) -> None:
        self.by_name = {p.name: p for p in providers or []}

    def get(self, name: str) -> IdentityProvider:
        """A provider, or 404."""
        provider = self.by_name.get(name)
        if provider is None:
            raise NotFoundError(f"no sign-in provider {name!r}", "provider")
        return provider

    def start(self, key: bytes, name: str, redirect_uri: str, next_path: str | None) -> Start:
        """The authorization URL and the state to keep in the browser."""
        provider = self.get(name)
        state, nonce, verifier = (secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                                  secrets.token_urlsafe(48))
        url = provider.authorization_url(redirect_uri, state, nonce, pkce_challenge(verifier))
        sealed = seal(key, {"p": name, "s": state, "n": nonce, "v": verifier,
                            "next": safe_next(next_path), "at": int(time.time())})
        return Start(url, sealed)

    def finish(self, key: bytes, name: str, sealed: str | None, state: str, code: str,
               redirect_uri: str) -> tuple[ExternalClaims, str]:
        """Verified claims and where to return, when the callback matches the started state."""
        data = unseal(key, sealed)
        if data["p"] != name or not hmac.compare_digest(data["s"], state):
            raise ExternalSignInError("the sign-in state does not match: start again", "state")
        provider = self.get(name)
        claims = provider.exchange(code, redirect_uri, data["v"], data["n"])
        if claims.issuer != provider.issuer:
            raise ExternalSignInError("the provider's answer names another issuer", "code")
        return claims, str(data["next"])
