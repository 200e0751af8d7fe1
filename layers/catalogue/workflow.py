"""A layer version's states and its one table of transitions."""

from __future__ import annotations

import enum

from core.workflow import Context, Transition, Workflow

WRITE = "layer.write"


class VersionStatus(enum.StrEnum):
    """Where a layer version stands."""

    DRAFT = "draft"
    NEEDS_INPUT = "needs_input"
    VALIDATED = "validated"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


S = VersionStatus


def _has_own_data(ctx: Context) -> str | None:
    if ctx.row.get("data_table") or ctx.row.get("raster_id"):
        return None
    return "this version has no data of its own to publish (it was loaded with a whole " \
        "planning set)"


VERSION = Workflow(
    name="layer version",
    states=VersionStatus,
    table="catalogue_version",
    events="catalogue_event",
    event_key="version_id",
    transitions=(
        # An upload's job makes a draft; a planning set loaded whole is published at once.
        Transition(None, "upload", S.DRAFT, None),
        Transition(None, "load", S.PUBLISHED, None),
        Transition(S.DRAFT, "ask", S.NEEDS_INPUT, None),
        Transition(S.NEEDS_INPUT, "answer", S.DRAFT, WRITE),
        Transition(S.DRAFT, "validate", S.VALIDATED, None),
        Transition(S.DRAFT, "reject", S.REJECTED, None),
        Transition(S.VALIDATED, "publish", S.PUBLISHED, WRITE, guards=("has_own_data",)),
        Transition(S.PUBLISHED, "supersede", S.SUPERSEDED, None),
        Transition(S.SUPERSEDED, "rollback", S.PUBLISHED, WRITE, guards=("has_own_data",)),
    ),
    guards={"has_own_data": _has_own_data},
)


class JobStatus(enum.StrEnum):
    """Where an upload's ingest job stands (the record planners follow)."""

    QUEUED = "queued"
    RUNNING = "running"
    NEEDS_INPUT = "needs_input"
    FAILED = "failed"
    SUCCEEDED = "succeeded"


J = JobStatus

JOB = Workflow(
    name="ingest job",
    states=JobStatus,
    table="etl_job",
    events="etl_job_event",
    event_key="job_id",
    transitions=(
        Transition(None, "upload", J.QUEUED, WRITE),
        # A worker claims a queued job; the queue gives a dead worker's running job again.
        Transition(J.QUEUED, "claim", J.RUNNING, None),
        Transition(J.RUNNING, "restart", J.RUNNING, None),
        Transition(J.RUNNING, "ask", J.NEEDS_INPUT, None),
        Transition(J.NEEDS_INPUT, "answer", J.QUEUED, WRITE),
        Transition(J.RUNNING, "succeed", J.SUCCEEDED, None),
        Transition(J.RUNNING, "fail", J.FAILED, None),
        # An unexpected error before the run claimed it still ends the job, and says so.
        Transition(J.QUEUED, "fail", J.FAILED, None),
    ),
)
