"""The one workflow engine: every status of every workflow moves through `fire`.

A workflow is a `StrEnum` of states and one table of transitions (from, action, to, the
policy action that allows it, named guards, effects). `fire` locks the row, compares the
caller's If-Match with the row's version, checks the policy, runs the guards, moves the
status, bumps the version, appends an event and runs the effects (which enqueue what must
follow: messages, deadlines) in the caller's transaction. A trigger on every workflow table
refuses a status written by anything else.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Connection

from core import clock
from core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)

# The session setting the status trigger reads (migration 0020): set for one write at a time.
ENGINE_SETTING = "civicmap.transition"


class _Now:
    """A value of `fire`'s `values`: the transaction's time, as the database says it (or the
    moment the clock is pinned at)."""

    def __repr__(self) -> str:
        return "NOW"


NOW = _Now()


class Visibility(enum.StrEnum):
    """Who may read an event: anyone, the applicant or reporter, staff, or nobody outside."""

    PUBLIC = "public"
    APPLICANT = "applicant"
    STAFF = "staff"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Transition:
    """From `source` (None: the row's creation), `action` leads to `target`."""

    source: str | None
    action: str
    target: str
    allowed_by: str | None  # the policy action; None: only the system (jobs, other moves)
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    visibility: Visibility = Visibility.STAFF


@dataclass(frozen=True)
class Actor:
    """Who fires a transition, and how the policy is asked about them.

    `authorize(policy_action, row)` raises unless they may (the service passes the policy's
    check with the row as its subject); `staff` writes must say which version they change.
    """

    person_id: int | None
    authorize: Callable[[str, Mapping[str, Any]], None] | None = None
    staff: bool = False

    @property
    def system(self) -> bool:
        """The platform itself (a job, a move that follows another)."""
        return self.authorize is None


SYSTEM = Actor(None)


@dataclass
class Context:
    """What a guard or an effect sees."""

    conn: psycopg.Connection[Any]
    workflow: Workflow
    row: dict[str, Any]
    transition: Transition
    actor: Actor
    note: str | None
    detail: dict[str, Any]
    event_id: int | None = None  # the move's event, once written (effects see it)
    # What effects need that the event must not keep (a link's origin, say).
    carry: Mapping[str, Any] = field(default_factory=dict)


Guard = Callable[[Context], str | None]  # the reason it fails, or None
Effect = Callable[[Context], None]
# The caller's right to see the row, checked on the locked row (raises, a 404 or a 403).
Seen = Callable[[Mapping[str, Any]], None]
# The other columns a move sets, worked out from the locked row once every check holds (it may
# add to the event's detail): a dossier's return date from its procedure, say.
Settle = Callable[[Context], Mapping[str, Any]]


@dataclass(frozen=True)
class Workflow:
    """A workflow's states, its table of transitions, and the tables it moves."""

    name: str
    states: type[enum.StrEnum]
    table: str
    events: str
    event_key: str  # the events' column naming the row
    transitions: tuple[Transition, ...]
    guards: Mapping[str, Guard] = field(default_factory=dict)
    effects: Mapping[str, Effect] = field(default_factory=dict)
    created: str | None = "created_at"  # the row's creation stamp, set when the clock is pinned

    def __post_init__(self) -> None:
        names = {s.value for s in self.states}
        for t in self.transitions:
            for state in (t.source, t.target):
                if state is not None and state not in names:
                    raise ValueError(f"{self.name}: unknown state {state!r}")
            for name in t.guards:
                if name not in self.guards:
                    raise ValueError(f"{self.name}: no guard {name!r}")
            for name in t.effects:
                if name not in self.effects:
                    raise ValueError(f"{self.name}: no effect {name!r}")
        pairs = [(t.source, t.action) for t in self.transitions]
        if len(pairs) != len(set(pairs)):
            raise ValueError(f"{self.name}: one action leads to one state")

    def move(self, source: str | None, action: str) -> Transition | None:
        """The transition `action` makes from `source`, if the table has one."""
        return next((t for t in self.transitions if t.source == source and t.action == action),
                    None)

    def actions_from(self, source: str | None) -> tuple[str, ...]:
        """The actions the table allows from a state."""
        return tuple(t.action for t in self.transitions if t.source == source)

    def check_constraint(self) -> str:
        """The CHECK that keeps the status column within the enum."""
        return "status IN (" + ", ".join(f"'{s.value}'" for s in self.states) + ")"

    def etag(self, row_id: int, version: int) -> str:
        """The strong ETag of a row at a version."""
        return f'"{self.name}-{row_id}-v{version}"'


class GuardError(ConflictError):
    """The move is in the table, but its guards refuse it (each named in the answer)."""

    def __init__(self, action: str, failed: Sequence[tuple[str, str]]) -> None:
        super().__init__(f"cannot {action}: " + "; ".join(why for _, why in failed), "status")
        self.extra = {"guards": [{"guard": g, "reason": why} for g, why in failed]}


@dataclass(frozen=True)
class Fired:
    """What a transition did."""

    row_id: int
    source: str | None
    target: str
    version: int
    etag: str
    event_id: int
    # The row as the move left it, every column: answering with it needs no second read.
    row: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def driver(conn: psycopg.Connection[Any] | Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy one (the same transaction)."""
    if isinstance(conn, Connection):
        raw = conn.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        return raw
    return conn


def check_version(current: str, if_match: str | None, *, required: bool = False) -> None:
    """412 unless If-Match names the current ETag (or `*`); 428 when required and missing."""
    if if_match is None:
        if required:
            raise PreconditionRequiredError(
                "send If-Match with the ETag of the version you are changing", "If-Match")
        return
    if if_match.strip() != "*" and current not in [t.strip() for t in if_match.split(",")]:
        raise PreconditionFailedError(f"it changed since you read it (now {current})",
                                      "If-Match")


def _as_engine(cur: psycopg.Cursor[Any], table: str) -> None:
    cur.execute("SELECT set_config(%s, %s, true)", (ENGINE_SETTING, table))


def _authorize(workflow: Workflow, move: Transition, actor: Actor,
               row: Mapping[str, Any]) -> None:
    if move.allowed_by is None:
        if not actor.system:
            raise ForbiddenError(f"only the platform can {move.action} a {workflow.name}")
        return
    if actor.authorize is not None:
        actor.authorize(move.allowed_by, row)


def _guarded(ctx: Context) -> None:
    failed = [(name, why) for name in ctx.transition.guards
              if (why := ctx.workflow.guards[name](ctx)) is not None]
    if failed:
        raise GuardError(ctx.transition.action, failed)


def _event(cur: psycopg.Cursor[Any], ctx: Context, row_id: int, source: str | None,
           visibility: Visibility | None) -> int:
    wf = ctx.workflow
    cur.execute(sql.SQL(
        "INSERT INTO {events} ({key}, actor_id, action, from_status, to_status, note, "
        "visibility, detail, at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
        "coalesce(%s::timestamptz, now())) RETURNING id").format(
        events=sql.Identifier(wf.events), key=sql.Identifier(wf.event_key)),
        (row_id, ctx.actor.person_id, ctx.transition.action, source, ctx.transition.target,
         ctx.note, visibility or ctx.transition.visibility, Jsonb(ctx.detail), clock.pinned()))
    found = cur.fetchone()
    assert found is not None
    return int(found["id"])


def _checked(cur: psycopg.Cursor[Any], workflow: Workflow, row_id: int, action: str,
             actor: Actor, if_match: str | None, note: str | None,
             detail: Mapping[str, Any] | None, seen: Seen | None = None) -> Context:
    """Lock the row and check sight, version, table, policy and guards: the move's context."""
    cur.execute(sql.SQL("SELECT * FROM {} WHERE id = %s FOR UPDATE").format(
        sql.Identifier(workflow.table)), (row_id,))
    row = cur.fetchone()
    if row is None:
        raise NotFoundError(f"no {workflow.name} {row_id}")
    if seen is not None:  # before the version: a row hidden from the caller tells them nothing
        seen(row)
    check_version(workflow.etag(row_id, int(row["version"])), if_match, required=actor.staff)
    source = str(row["status"])
    move = workflow.move(source, action)
    if move is None:
        allowed = ", ".join(workflow.actions_from(source)) or "nothing"
        raise ConflictError(f"a {workflow.name} in status {source!r} cannot be {action}: "
                            f"it allows {allowed}", "status")
    _authorize(workflow, move, actor, row)
    ctx = Context(cur.connection, workflow, row, move, actor, note, dict(detail or {}))
    _guarded(ctx)
    return ctx


def preflight(conn: psycopg.Connection[Any] | Connection, workflow: Workflow, row_id: int,
              action: str, actor: Actor, *, if_match: str | None = None,
              note: str | None = None, detail: Mapping[str, Any] | None = None,
              seen: Seen | None = None) -> dict[str, Any]:
    """Every check `fire` makes, without the move: before work the move would crown. The row,
    locked."""
    with driver(conn).cursor(row_factory=dict_row) as cur:
        return _checked(cur, workflow, row_id, action, actor, if_match, note, detail, seen).row


def fire(conn: psycopg.Connection[Any] | Connection, workflow: Workflow, row_id: int,
         action: str, actor: Actor, *, if_match: str | None = None, note: str | None = None,
         detail: Mapping[str, Any] | None = None, visibility: Visibility | None = None,
         values: Mapping[str, Any] | None = None,
         carry: Mapping[str, Any] | None = None, seen: Seen | None = None,
         settle: Settle | None = None) -> Fired:
    """Move row `row_id` by `action`, in the caller's transaction; returns the new ETag.

    `values` are other columns the move sets (a dossier's code on submission, say; `NOW`: the
    transaction's time), `settle` works out more from the locked row; `carry` is for the
    effects only, never written in the event; `seen` checks the caller may see the row at all.
    """
    raw = driver(conn)
    with raw.cursor(row_factory=dict_row) as cur:
        ctx = _checked(cur, workflow, row_id, action, actor, if_match, note, detail, seen)
        ctx.carry = dict(carry or {})
        if settle is not None:
            values = {**(values or {}), **settle(ctx)}
        source, move = str(ctx.row["status"]), ctx.transition
        extra = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in (values or {}).items()
                 if v is not NOW}
        stamped = [k for k, v in (values or {}).items() if v is NOW]
        assignments = sql.SQL(", ").join(
            [sql.SQL("{} = %s").format(sql.Identifier(column)) for column in extra]
            + [sql.SQL("{} = coalesce(%s::timestamptz, now())").format(sql.Identifier(column))
               for column in stamped])
        # The move and its event in one round trip: a pipeline, synced by the event's fetch.
        with raw.pipeline(), raw.cursor(row_factory=dict_row) as moving:
            _as_engine(cur, workflow.table)
            moving.execute(sql.SQL(
                "UPDATE {t} SET status = %s, version = version + 1{more} WHERE id = %s "
                "RETURNING *").format(
                t=sql.Identifier(workflow.table),
                more=sql.SQL(", ") + assignments if extra or stamped else sql.SQL("")),
                (move.target, *extra.values(), *[clock.pinned()] * len(stamped), row_id))
            _as_engine(cur, "")
            event_id = ctx.event_id = _event(cur, ctx, row_id, source, visibility)
            moved = moving.fetchone()
        assert moved is not None
        ctx.row = moved
    for name in move.effects:
        workflow.effects[name](ctx)
    version = int(moved["version"])
    return Fired(row_id, source, move.target, version, workflow.etag(row_id, version), event_id,
                 moved)


def create(conn: psycopg.Connection[Any] | Connection, workflow: Workflow, action: str,
           actor: Actor, values: Mapping[str, Any], *, note: str | None = None,
           detail: Mapping[str, Any] | None = None,
           visibility: Visibility | None = None) -> Fired:
    """Insert a row in the state its creating transition (from None) names, with its event."""
    raw = driver(conn)
    move = workflow.move(None, action)
    if move is None:
        raise ConflictError(f"a {workflow.name} cannot be created by {action}", "status")
    _authorize(workflow, move, actor, values)
    ctx = Context(raw, workflow, dict(values), move, actor, note, dict(detail or {}))
    _guarded(ctx)
    moment = clock.pinned()
    if moment is not None and workflow.created is not None:
        values = {workflow.created: moment, **values}  # the pinned day made it
    columns = [*values, "status", "version"]
    with raw.cursor(row_factory=dict_row) as cur, raw.pipeline():
        _as_engine(cur, workflow.table)
        cur.execute(sql.SQL("INSERT INTO {t} ({c}) VALUES ({v}) RETURNING *").format(
            t=sql.Identifier(workflow.table),
            c=sql.SQL(", ").join(map(sql.Identifier, columns)),
            v=sql.SQL(", ").join(sql.Placeholder() * len(columns))),
            (*[Jsonb(v) if isinstance(v, dict) else v for v in values.values()],
             move.target, 1))
        row = cur.fetchone()
        _as_engine(cur, "")
        assert row is not None
        ctx.row = row
        event_id = ctx.event_id = _event(cur, ctx, int(row["id"]), None, visibility)
    for name in move.effects:
        workflow.effects[name](ctx)
    return Fired(int(row["id"]), None, move.target, 1, workflow.etag(int(row["id"]), 1),
                 event_id, row)
