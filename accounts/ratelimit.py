"""Rate limits kept in PostgreSQL, so every worker counts the same hits."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import Connection

from core.errors import TooManyRequestsError


@dataclass(frozen=True)
class Rule:
    """At most `limit` hits per `window_s` seconds for one key."""

    name: str
    limit: int
    window_s: int


# Failed sign-ins count per (address, identifier): an attacker elsewhere cannot lock the owner
# out; per address alone, a wider bound stops spraying many identifiers from one place.
SIGN_IN_PAIR = Rule("sign-in-pair", 5, 900)
SIGN_IN_ADDRESS = Rule("sign-in-address", 50, 900)
# Codes cost money and reach someone's phone: few per identifier, whatever the address.
CODE_SEND = Rule("code-send", 3, 600)
# Dossier codes are sequential: look-ups by code per address, enough for a family's dossiers.
DOSSIER_LOOKUP = Rule("dossier-lookup", 60, 600)
# Feedback reports per address: a flood of fake reports stays out, a street's neighbours do not.
FEEDBACK_SEND = Rule("feedback-send", 20, 3600)
# …and per device (the app's random id): one phone cannot flood from a street's shared Wi-Fi.
FEEDBACK_DEVICE = Rule("feedback-device", 10, 3600)
# Anonymous writes (sign-up) per address.
ANONYMOUS_WRITE = Rule("anonymous-write", 20, 3600)
# Open311: reports per client (an app sending for many people), reads per address.
OPEN311_SEND = Rule("open311-send", 300, 3600)
OPEN311_READ = Rule("open311-read", 600, 600)


def _key(rule: Rule, *parts: str) -> str:
    return hashlib.sha256("|".join((rule.name, *parts)).encode()).hexdigest()


class RateLimiter:
    """Counts hits per key in a sliding window."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def check(self, rule: Rule, *parts: str) -> None:
        """429 when the key already reached the rule's limit in its window."""
        row = self.conn.exec_driver_sql(
            "SELECT count(*), min(at) FROM rate_hit WHERE key = %(k)s "
            "AND at > now() - make_interval(secs => %(w)s)",
            {"k": _key(rule, *parts), "w": rule.window_s},
        ).one()
        if row[0] >= rule.limit:
            wait = self.conn.exec_driver_sql(
                "SELECT extract(epoch FROM %(first)s + make_interval(secs => %(w)s) - now())",
                {"first": row[1], "w": rule.window_s},
            ).scalar_one()
            raise TooManyRequestsError("too many attempts: try again later",
                                       max(1, math.ceil(float(wait))))

    def hit(self, rule: Rule, *parts: str) -> None:
        """Count one hit."""
        self.conn.exec_driver_sql("INSERT INTO rate_hit (key) VALUES (%(k)s)",
                                  {"k": _key(rule, *parts)})
