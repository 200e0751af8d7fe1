"""Messages to a person by their account: in their in-app list, and to the phone it holds, else
its e-mail, through the outbox in the caller's transaction (workflow effects)."""

from __future__ import annotations

from typing import Any

import psycopg

from accounts.push import queue_push
from core.notify import queue_message


def tell_person(conn: psycopg.Connection[Any], person_id: int, text: str,
                link: str | None = None) -> bool:
    """Put `text` in the person's in-app list, and queue it to their phone or e-mail (and a
    push to each browser they subscribed); False when their account reaches nowhere
    (deleted)."""
    with conn.cursor() as cur:
        cur.execute("SELECT phone, email FROM person WHERE id = %s AND deleted_at IS NULL",
                    (person_id,))
        found = cur.fetchone()
        if found is not None:
            cur.execute("INSERT INTO person_notice (person_id, body, link) VALUES (%s, %s, %s)",
                        (person_id, text, link))
    if found is None or not (found[0] or found[1]):
        return False
    phone, email = found
    queue_message(conn, "sms" if phone else "email", phone or email, text)
    queue_push(conn, person_id, text, link)
    return True
