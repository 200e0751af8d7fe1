"""The ground floor's commands: the database (embedded or configured) and the outbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer

from core.db import database_url, embedded_cluster, libpq_url, make_engine
from core.pgcluster import ClusterError
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_app = typer.Typer(help="The database: the embedded PostGIS cluster, or the server in "
                     "CIVICMAP_DATABASE_URL.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages waiting to leave (SMS, e-mail).", no_args_is_help=True)


def current_settings() -> Settings:
    """The process-wide settings."""
    return get_settings()


def fail(message: str) -> typer.Exit:
    """Print a refusal in red; the caller raises the exit it returns."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def settings_libpq_url(settings: Settings) -> str:
    """The configured database URL as libpq (psql, psycopg, GDAL) understands it."""
    return libpq_url(database_url(settings))


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    """A one-connection engine on the configured database (started when embedded), disposed
    when the command is done with it."""
    ensure_database(settings)
    engine = make_engine(database_url(settings), pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()


def ensure_database(settings: Settings) -> None:
    """Start the embedded cluster when it is the one in use and not running."""
    if settings.database_url is not None:
        return
    cluster = embedded_cluster(settings)
    try:
        if not cluster.running:
            started = time.monotonic()
            cluster.start()
            typer.echo(f"embedded PostGIS started in {time.monotonic() - started:.1f} s "
                       f"({cluster.home})")
        else:
            cluster.ensure_database()
    except ClusterError as exc:
        raise fail(str(exc)) from exc



@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostGIS (creating it on first use)."""
    settings = current_settings()
    if settings.database_url is not None:
        typer.echo("CIVICMAP_DATABASE_URL is set: the embedded cluster is not used")
        return
    ensure_database(settings)
    typer.echo("embedded PostGIS is running")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS."""
    settings = current_settings()
    if settings.database_url is not None:
        typer.echo("CIVICMAP_DATABASE_URL is set: nothing to stop here")
        return
    try:
        embedded_cluster(settings).stop()
    except ClusterError as exc:
        raise fail(str(exc)) from exc
    typer.echo("embedded PostGIS stopped")


@db_app.command("status")
def db_status() -> None:
    """Say which database is used and whether it answers."""
    settings = current_settings()
    url = settings_libpq_url(settings)
    if settings.database_url is None:
        cluster = embedded_cluster(settings)
        state = "running" if cluster.running else (
            "stopped" if cluster.initialized else "not created yet")
        typer.echo(f"embedded PostGIS in {cluster.home}: {state}")
        if state != "running":
            raise typer.Exit(1)
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            version = conn.execute("SELECT postgis_lib_version()").fetchone()
    except psycopg.Error as exc:
        raise fail(f"database not reachable: {exc}") from exc
    typer.echo(f"database answers at {url} (PostGIS {version[0] if version else '?'})")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (usable by psql)."""
    typer.echo(settings_libpq_url(current_settings()))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the schema migrations."""
    from core.migrate import upgrade

    with database(current_settings()) as engine, engine.begin() as conn:
        upgrade(conn)
    typer.echo("database migrated")


@outbox_app.command("show")
def outbox_show(
    last: Annotated[int, typer.Option(help="How many of the newest messages")] = 10,
) -> None:
    """The development inbox: the newest messages, with their codes."""
    with database(current_settings()) as engine, engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT created_at, channel, recipient, body, sent_at FROM outbox_message "
            "ORDER BY id DESC LIMIT %(n)s", {"n": last}).all()
    for row in reversed(rows):
        state = "sent" if row.sent_at else "pending"
        typer.echo(f"{row.created_at:%Y-%m-%d %H:%M} {row.channel} {row.recipient} [{state}] "
                   f"{row.body}")


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Deliver pending messages now (workers do it every minute) through the sender adapters
    (here: the development sink)."""
    from core.notify import deliver, development_senders

    with database(current_settings()) as engine, engine.begin() as conn:
        done = deliver(conn, development_senders())
    typer.echo(f"{done.sent} sent, {done.failed} failed")
