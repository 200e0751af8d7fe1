"""The one policy table: which role may do which action on which objects.

Every route names its action through `accounts.auth.authorize`; nothing else checks roles.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import ForbiddenError, NotFoundError, UnauthorizedError
from core.workflow import Actor


class Scope(enum.StrEnum):
    """Which objects a rule reaches."""

    ANY = "any"  # every object (or the action has none)
    OWN = "own"  # objects the person owns
    DEPARTMENT_WARDS = "department_wards"  # objects of their department in their wards
    DEPARTMENT = "department"  # objects of their department


# Everyone holds `anonymous`; everyone signed in also holds `person` (their own account).
ANONYMOUS = "anonymous"
PERSON = "person"
STAFF_ROLES = ("officer", "leader", "planner", "administrator")
ROLES = (ANONYMOUS, PERSON, "citizen", *STAFF_ROLES)


@dataclass(frozen=True)
class Rule:
    """`role` may do `action` on objects within `scope`."""

    role: str
    action: str
    scope: Scope


EVERY, OWN, WARDS, DEPT = Scope.ANY, Scope.OWN, Scope.DEPARTMENT_WARDS, Scope.DEPARTMENT
POLICY: tuple[Rule, ...] = (
    # Public: map, planning facts, procedures, health, a dossier's status by code, signing in.
    Rule(ANONYMOUS, "public.read", EVERY),
    Rule(ANONYMOUS, "dossier.lookup", EVERY),
    Rule(ANONYMOUS, "account.enter", EVERY),
    # A fee gateway's notices: believed for their signature, not for who sends them.
    Rule(ANONYMOUS, "payment.notify", EVERY),
    # Feedback: anyone reports (confirmed by a code, or from an account).
    Rule(ANONYMOUS, "feedback.report", EVERY),
    # One's own account: profile, password, export, deletion, sign-out.
    Rule(PERSON, "account.self", OWN),
    # Citizens: their own dossiers and drafts.
    Rule("citizen", "dossier.create", EVERY),
    Rule("citizen", "dossier.read", OWN),
    Rule("citizen", "dossier.edit", OWN),
    Rule("citizen", "dossier.apply", OWN),
    Rule("citizen", "feedback.follow", OWN),  # answer the officer's question, reopen
    # Officers: submitted dossiers of their department in the wards they serve: receive them,
    # process them, ask for supplements, return results.
    Rule("officer", "dossier.read", WARDS),
    Rule("officer", "dossier.handle", WARDS),
    Rule("officer", "feedback.handle", WARDS),
    # The mobile office: the queue and tasks of their department in their wards, and what
    # they were given themselves.
    Rule("officer", "office.work", WARDS),
    Rule("officer", "office.work", OWN),
    # Leaders: their department's submitted dossiers; they handle them and decide.
    Rule("leader", "dossier.read", DEPT),
    Rule("leader", "dossier.handle", DEPT),
    Rule("leader", "feedback.handle", DEPT),
    Rule("leader", "dossier.decide", DEPT),
    # Leaders give work (dossiers, reports, tasks) to the officers of their department.
    Rule("leader", "office.work", DEPT),
    Rule("leader", "office.assign", DEPT),
    # The on-time figures: leaders of their department; administrators of the district.
    Rule("leader", "office.stats", DEPT),
    Rule("administrator", "office.stats", EVERY),
    # Planners: layer work only.
    Rule("planner", "layer.write", EVERY),
    # Layers published for staff only (OGC API): every staff role, and tokens so scoped.
    *(Rule(role, "layer.staff_read", EVERY) for role in STAFF_ROLES),
    # Tokens for integrations: staff, each their own.
    *(Rule(role, "token.manage", OWN) for role in STAFF_ROLES),
    # Administrators: people, roles and the audit log (not citizens' dossiers).
    Rule("administrator", "staff.manage", EVERY),
    Rule("administrator", "audit.read", EVERY),
    # Administrators: the working-day calendar's swaps and departments' closures (reading the
    # calendar is public.read).
    Rule("administrator", "calendar.edit", EVERY),
    # Administrators: the procedure catalogue (reading it is public.read).
    Rule("administrator", "procedure.edit", EVERY),
    # Administrators: feedback categories' departments and response times (data, not code).
    Rule("administrator", "feedback.categories", EVERY),
    # Administrators: Open311 clients and their API keys (issue, list, revoke).
    Rule("administrator", "open311.clients", EVERY),
)
ACTIONS = tuple(dict.fromkeys(rule.action for rule in POLICY))


class HiddenError(NotFoundError):
    """Exists, but not for this person: answered as a plain 404."""


@dataclass(frozen=True)
class Grant:
    """A role held by a person, with the department and wards it serves."""

    role: str
    department: str | None = None
    wards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Principal:
    """Who is asking: nobody, or a person through a session cookie or a bearer token."""

    person_id: int | None = None
    grants: tuple[Grant, ...] = ()
    via: str = "none"  # none | cookie | token
    token_scopes: frozenset[str] | None = None  # a token's actions; None when not a token
    csrf_token: str | None = None

    @property
    def roles(self) -> frozenset[str]:
        """Roles held, with the implicit ones."""
        held = {ANONYMOUS}
        if self.person_id is not None:
            held.add(PERSON)
            held.update(g.role for g in self.grants)
        return frozenset(held)

    @property
    def is_staff(self) -> bool:
        """Holds a staff role."""
        return any(g.role in STAFF_ROLES for g in self.grants)

    def department(self, *roles: str) -> str | None:
        """The department of its first grant of one of these roles (of any role when none is
        named), or None."""
        return next((g.department for g in self.grants
                     if g.department and (not roles or g.role in roles)), None)


NOBODY = Principal()


@dataclass(frozen=True)
class Subject:
    """The object of an action, as far as the policy cares."""

    owner_id: int | None = None
    department: str | None = None
    ward: str | None = None
    private: bool = False  # e.g. a draft: only its owner reaches it


@dataclass(frozen=True)
class Reach:
    """What a principal reaches for one action: `everything`, or the union of the parts."""

    everything: bool = False
    owner_id: int | None = None
    departments: tuple[str, ...] = ()
    department_wards: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())


def rules_for(principal: Principal, action: str) -> list[tuple[Rule, Grant | None]]:
    """The rules (with the grant behind each) that let this principal do this action."""
    # A token outside its scopes is as good as no credential: public actions stay open.
    outside = principal.token_scopes is not None and action not in principal.token_scopes
    roles = frozenset({ANONYMOUS}) if outside else principal.roles
    found: list[tuple[Rule, Grant | None]] = []
    for rule in POLICY:
        if rule.action != action or rule.role not in roles:
            continue
        if rule.role in (ANONYMOUS, PERSON):
            found.append((rule, None))
        else:
            found.extend((rule, g) for g in principal.grants if g.role == rule.role)
    return found


def allowed(principal: Principal, action: str) -> bool:
    """Whether any rule lets the principal do the action on some object."""
    return bool(rules_for(principal, action))


def reach(principal: Principal, action: str) -> Reach:
    """The objects the principal reaches, for filtering lists in SQL."""
    owner: int | None = None
    departments: list[str] = []
    pairs: list[tuple[str, tuple[str, ...]]] = []
    for rule, grant in rules_for(principal, action):
        if rule.scope is Scope.ANY:
            return Reach(everything=True)
        if rule.scope is Scope.OWN:
            owner = principal.person_id
        elif grant is not None and grant.department:
            if rule.scope is Scope.DEPARTMENT:
                departments.append(grant.department)
            elif grant.wards:
                pairs.append((grant.department, grant.wards))
    return Reach(owner_id=owner, departments=tuple(departments), department_wards=tuple(pairs))


def _covers(rule: Rule, grant: Grant | None, principal: Principal, subject: Subject) -> bool:
    if rule.scope is Scope.OWN:
        return subject.owner_id is not None and subject.owner_id == principal.person_id
    if subject.private:
        return False
    if rule.scope is Scope.ANY:
        return True
    if grant is None or grant.department is None or grant.department != subject.department:
        return False
    return rule.scope is Scope.DEPARTMENT or subject.ward in grant.wards


def check(principal: Principal, action: str, subject: Subject | None = None) -> None:
    """Raise unless the principal may do the action (on the subject, when there is one).

    No rule at all: 401 for nobody, 403 for a signed-in person. A rule, but not for this
    object: 404 for citizens (existence is not revealed), 403 for staff outside their scope.
    """
    found = rules_for(principal, action)
    if not found:
        if principal.person_id is None:
            raise UnauthorizedError("sign in first")
        raise ForbiddenError(f"your roles do not allow {action}")
    if subject is None:
        return
    if any(_covers(rule, grant, principal, subject) for rule, grant in found):
        return
    if any(grant is not None and grant.role in STAFF_ROLES for _, grant in found):
        raise ForbiddenError(f"outside your department or wards ({action})")
    raise HiddenError("not found")


def may(principal: Principal, action: str, subject: Subject | None = None) -> bool:
    """Whether `check` would let the principal do the action (on the subject)."""
    try:
        check(principal, action, subject)
    except (UnauthorizedError, ForbiddenError, NotFoundError):
        return False
    return True


def workflow_actor(principal: Principal,
                   subject_of: Callable[[Mapping[str, Any]], Subject | None] | None = None
                   ) -> Actor:
    """The principal as the workflow engine asks this table about them: each transition's
    policy action checked on the row (`subject_of` says what the policy needs of it)."""
    def authorize(action: str, row: Mapping[str, Any]) -> None:
        check(principal, action, subject_of(row) if subject_of else None)

    return Actor(principal.person_id, authorize, staff=principal.is_staff)


def is_public(action: str) -> bool:
    """Whether anyone at all may do the action, on any object."""
    return any(r.action == action and r.role == ANONYMOUS and r.scope is Scope.ANY
               for r in POLICY)


# What a bearer token may be scoped to: never account or token management.
TOKEN_SCOPES = tuple(a for a in ACTIONS
                     if not a.startswith(("account.", "token.")) and not is_public(a))
