"""The offices' commands: the sample half year of their work."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from core.cli import current_settings, database, fail

work_app = typer.Typer(help="The offices' work: dossiers, reports, tasks.", no_args_is_help=True)


@work_app.command("sample")
def work_sample(
    if_empty: Annotated[bool, typer.Option(help="Do nothing when the half year is loaded")]
    = True,
    background: Annotated[bool, typer.Option(
        help="Queue it for a worker (civicmap worker, or the one `serve` starts)")] = False,
) -> None:
    """Live the sample's half year of the district's work (the second half of 2025) through
    the services: dossiers, payments, supplements, decisions, signed results and reports, each
    on its day."""
    from core.db import database_url, libpq_url
    from core.jobs import make_queue
    from core.workflow import driver
    from permits.sample import tasks
    from permits.sample.service import PERIOD, HalfYear

    settings = current_settings()
    with database(settings) as engine, engine.begin() as conn:
        half = HalfYear(conn, settings)
        if half.present():
            if if_empty:
                typer.echo("sample half year already loaded")
                return
            raise fail("the sample half year is loaded already")
        if not conn.exec_driver_sql("SELECT 1 FROM parcel LIMIT 1").first():
            raise fail("load the sample planning data first (civicmap sample load)")
        if background:
            queue = make_queue(libpq_url(database_url(settings)),
                               {tasks.NAMESPACE: tasks.blueprint()})
            queued = tasks.defer_half_year(queue, driver(conn))
            typer.echo("sample half year queued: a worker lives it in the background (about "
                       f"a quarter of an hour; the {PERIOD} statistics appear when it is done)"
                       if queued else "sample half year already waiting in the queue")
            return
        started = time.perf_counter()
        made = half.live()
    counts = ", ".join(f"{k} {v}" for k, v in made.dossiers.items())
    typer.echo(f"lived the sample half year {PERIOD} in {time.perf_counter() - started:.0f} s: "
               f"{counts}, {made.reports} reports, {made.moves} moves")
