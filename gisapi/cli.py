"""The civicmap command: serve the platform, run its database, load sample data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer

from gisapi.db import database_url, embedded_cluster, libpq_url, make_engine
from gisapi.errors import DomainError
from gisapi.pgcluster import ClusterError
from gisapi.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    help="civicmap: planning information and public services for District 7, map first.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database: the embedded PostGIS cluster, or the server in "
                     "CIVICMAP_DATABASE_URL.", no_args_is_help=True)
sample_app = typer.Typer(help="District 7 sample planning data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sample_app, name="sample")
staff_app = typer.Typer(help="Staff accounts (created here, never by sign-up).",
                        no_args_is_help=True)
app.add_typer(staff_app, name="staff")
raster_app = typer.Typer(help="Raster layers (scanned plans, orthophotos).", no_args_is_help=True)
app.add_typer(raster_app, name="raster")
outbox_app = typer.Typer(help="Messages waiting to leave (SMS, e-mail).", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
etl_app = typer.Typer(help="Planners' files into layer versions.", no_args_is_help=True)
app.add_typer(etl_app, name="etl")
NEEDS_INPUT = 3


def _settings() -> Settings:
    return get_settings()


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def settings_libpq_url(settings: Settings) -> str:
    """The configured database URL as libpq (psql, psycopg, GDAL) understands it."""
    return libpq_url(database_url(settings))


@contextmanager
def _database(settings: Settings) -> Iterator[Engine]:
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
        raise _fail(str(exc)) from exc


# -- db ------------------------------------------------------------------------------------

@db_app.command("start")
def db_start() -> None:
    """Start the embedded PostGIS (creating it on first use)."""
    settings = _settings()
    if settings.database_url is not None:
        typer.echo("CIVICMAP_DATABASE_URL is set: the embedded cluster is not used")
        return
    ensure_database(settings)
    typer.echo("embedded PostGIS is running")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS."""
    settings = _settings()
    if settings.database_url is not None:
        typer.echo("CIVICMAP_DATABASE_URL is set: nothing to stop here")
        return
    try:
        embedded_cluster(settings).stop()
    except ClusterError as exc:
        raise _fail(str(exc)) from exc
    typer.echo("embedded PostGIS stopped")


@db_app.command("status")
def db_status() -> None:
    """Say which database is used and whether it answers."""
    settings = _settings()
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
        raise _fail(f"database not reachable: {exc}") from exc
    typer.echo(f"database answers at {url} (PostGIS {version[0] if version else '?'})")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (usable by psql)."""
    typer.echo(settings_libpq_url(_settings()))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply the schema migrations."""
    from gisapi.migrate import upgrade

    with _database(_settings()) as engine, engine.begin() as conn:
        upgrade(conn)
    typer.echo("database migrated")


# -- sample --------------------------------------------------------------------------------

def _sample_folder(settings: Settings, parcels: int, seed: int) -> Path:
    return settings.sample_dir / f"d7-{parcels}-{seed}"


@sample_app.command("generate")
def sample_generate(
    parcels: Annotated[int, typer.Option(help="About how many parcels", min=100)] = 60_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files)")] = 7,
    out: Annotated[Path | None, typer.Option(help="Folder for the GeoPackages")] = None,
) -> None:
    """Write the District 7 planning files (GeoPackage, VN-2000 TM-3) into a folder."""
    from etl.sample import generate

    settings = _settings()
    folder = out or _sample_folder(settings, parcels, seed)
    started = time.monotonic()
    files = generate(folder, parcels=parcels, seed=seed)
    typer.echo(f"wrote {len(files)} layers to {folder} in {time.monotonic() - started:.1f} s")


@sample_app.command("load")
def sample_load(
    parcels: Annotated[int | None, typer.Option(help="Sample size (default from settings)")]
    = None,
    seed: Annotated[int, typer.Option(help="Random seed")] = 7,
    folder: Annotated[Path | None, typer.Option("--dir", help="Load these files instead")]
    = None,
    replace: Annotated[bool, typer.Option(help="Replace the planning data already loaded")]
    = False,
    if_empty: Annotated[bool, typer.Option(help="Do nothing when parcels are loaded")] = False,
) -> None:
    """Load the sample planning files (generating them first when missing)."""
    from etl.load import LAYER_ORDER, LoadError, PlanningSetLoader
    from etl.sample import generate

    settings = _settings()
    ensure_database(settings)
    with psycopg.connect(settings_libpq_url(settings), autocommit=True) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM parcel)").fetchone()
        if if_empty and row and row[0]:
            typer.echo("sample data already loaded")
            return
        size = parcels or settings.sample_parcels
        source = folder or _sample_folder(settings, size, seed)
        if folder is None and not (source / "parcels.gpkg").exists():
            started = time.monotonic()
            generate(source, parcels=size, seed=seed)
            typer.echo(f"generated the {size}-parcel sample in "
                       f"{time.monotonic() - started:.1f} s")
        files = {k: source / f"{k}.gpkg" for k in LAYER_ORDER if (source / f"{k}.gpkg").exists()}
        started = time.monotonic()
        try:
            counts = PlanningSetLoader(conn).load(files, replace=replace)
        except LoadError as exc:
            raise _fail(f"not loaded: {exc}") from exc
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(f"loaded {summary} in {time.monotonic() - started:.1f} s")


# -- staff ----------------------------------------------------------------------------------

@staff_app.command("add")
def staff_add(
    identifier: Annotated[str, typer.Argument(help="Phone number or e-mail address")],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[str, typer.Option(help="officer, leader, planner or administrator")],
    department: Annotated[str | None, typer.Option(help="Department (officers, leaders)")]
    = None,
    ward: Annotated[list[str] | None, typer.Option(help="Ward code served (repeatable)")]
    = None,
) -> None:
    """Create a staff account; prints its temporary password once."""
    from accounts.notify import OutboxNotifier
    from accounts.service import AccountService, GrantSpec

    settings = _settings()
    try:
        with _database(settings) as engine, engine.begin() as conn:
            service = AccountService(conn, OutboxNotifier(conn), settings.server_key())
            person_id, password = service.create_staff(
                identifier, name, GrantSpec(role, department, tuple(ward or ())))
    except DomainError as exc:
        raise _fail(f"not created: {exc.message}") from exc
    typer.echo(f"staff account {person_id} ({role}) created; temporary password: {password}")


# -- outbox ---------------------------------------------------------------------------------

@outbox_app.command("show")
def outbox_show(
    last: Annotated[int, typer.Option(help="How many of the newest messages")] = 10,
) -> None:
    """The development inbox: the newest messages, with their codes."""
    with _database(_settings()) as engine, engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT created_at, channel, recipient, body, sent_at FROM outbox_message "
            "ORDER BY id DESC LIMIT %(n)s", {"n": last}).all()
    for row in reversed(rows):
        state = "sent" if row.sent_at else "pending"
        typer.echo(f"{row.created_at:%Y-%m-%d %H:%M} {row.channel} {row.recipient} [{state}] "
                   f"{row.body}")


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Deliver pending messages through the sender adapters (here: the development sink)."""
    from accounts.notify import CHANNELS, DevelopmentSink, Sender, deliver

    senders: dict[str, Sender] = {c: DevelopmentSink(c) for c in CHANNELS}
    with _database(_settings()) as engine, engine.begin() as conn:
        done = deliver(conn, senders)
    typer.echo(f"{done.sent} sent, {done.failed} failed")


# -- etl ------------------------------------------------------------------------------------

@etl_app.command("ingest")
def etl_ingest(
    source: Annotated[Path, typer.Argument(help="Zipped shapefile, GeoPackage, GeoJSON, DXF, "
                                                "KML, KMZ, or a GeoTIFF for a scanned plan")],
    layer_id: Annotated[str, typer.Option("--layer", help="Catalogue layer id, e.g. land_use")],
    crs: Annotated[str | None, typer.Option(help="EPSG:9210, EPSG:32648, EPSG:4326[:swapped]")]
    = None,
    encoding: Annotated[str | None, typer.Option(help="utf-8, cp1258, tcvn3 or vni")] = None,
    source_layer: Annotated[str | None, typer.Option("--source-layer",
                                                     help="Layer of a multi-layer file")]
    = None,
    publish: Annotated[bool, typer.Option(help="Publish once validated")] = False,
) -> None:
    """Ingest a file: 0 when done, 3 when a doctor asks (question and candidates printed;
    answer with the same flag), 1 with the reason when it is refused."""
    import threading

    from etl.ingest import Ingest
    from layers.catalogue.service import CatalogueService

    if not source.is_file() or source.is_symlink():
        raise _fail(f"not a regular file: {source}")
    settings = _settings()
    answers = {k: v for k, v in {"crs": crs, "encoding": encoding,
                                 "layer": source_layer}.items() if v}
    try:
        with _database(settings) as engine, engine.begin() as conn, \
                open(source, "rb") as stream:
            service = CatalogueService(conn, settings.upload_dir, settings.upload_max_mb * 1024**2)
            job_id = service.upload(layer_id, source.name, stream, answers, publish, None)
    except DomainError as exc:
        raise _fail(f"not accepted: {exc.message}") from exc
    dsn = settings_libpq_url(settings)
    ingest = Ingest(dsn, settings.upload_dir, settings.var_dir / "rasters",
                    processes=settings.ingest_processes)
    worker = threading.Thread(target=ingest.run, args=(job_id,))
    worker.start()
    with psycopg.connect(dsn, autocommit=True) as watch, \
            typer.progressbar(length=100, label=source.name) as bar:
        shown = 0
        while worker.is_alive():
            row = watch.execute("SELECT progress FROM etl_job WHERE id = %s", (job_id,)).fetchone()
            done = int(row[0]) if row else 0
            bar.update(max(0, done - shown))
            shown = max(shown, done)
            time.sleep(0.3)
        worker.join()
        bar.update(100 - shown)
        job = watch.execute(
            "SELECT j.status, j.message, j.question, v.status, v.number FROM etl_job j "
            "LEFT JOIN catalogue_version v ON v.id = j.version_id WHERE j.id = %s",
            (job_id,)).fetchone()
    assert job is not None
    status, message, question, version_status, number = job
    if status == "needs_input":
        typer.echo(question["prompt"], err=True)
        flag = {"crs": "--crs", "encoding": "--encoding", "layer": "--source-layer"}[
            question["kind"]]
        for c in question["candidates"]:
            detail = "  ".join(f"{k}={v}" for k, v in c.items() if k not in ("value",
                                                                             "samples"))
            samples = " | ".join(c.get("samples", []))
            typer.echo(f"  {flag} {c['value']}  {detail}  {samples}".rstrip(), err=True)
        raise typer.Exit(NEEDS_INPUT)
    if status != "succeeded" or version_status == "rejected":
        raise _fail(f"refused: {message}")
    typer.echo(f"{layer_id} version {number} ({version_status}): {message}")


# -- raster ---------------------------------------------------------------------------------

@raster_app.command("add")
def raster_add(
    source: Annotated[Path, typer.Argument(help="A local GeoTIFF (made a COG if it is not)")],
    layer_id: Annotated[str, typer.Option("--id", help="Catalogue id, e.g. plan-2012")],
    title: Annotated[str, typer.Option(help="Title shown to users")],
) -> None:
    """Register a GeoTIFF as a raster layer served at /raster/{id}/..."""
    from tiles.catalogue import RasterError, register_raster

    settings = _settings()
    ensure_database(settings)
    with psycopg.connect(settings_libpq_url(settings), autocommit=True) as conn:
        try:
            path = register_raster(conn, settings.var_dir / "rasters", source, layer_id, title)
        except RasterError as exc:
            raise _fail(f"not added: {exc}") from exc
    typer.echo(f"raster layer '{layer_id}' -> {path}")


# -- serve ---------------------------------------------------------------------------------

@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CIVICMAP_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes")] = None,
) -> None:
    """Serve the API and the web app."""
    import uvicorn

    from gisapi.server import HotTileProtocol

    settings = _settings()
    ensure_database(settings)
    bind_host = host or settings.host
    bind_port = port or settings.port
    typer.echo(f"civicmap on http://{bind_host}:{bind_port} (API docs at /docs)")
    uvicorn.run(
        "gisapi.main:create_app", factory=True, host=bind_host, port=bind_port,
        workers=workers or settings.workers, log_level="warning", access_log=False,
        http=HotTileProtocol,
    )


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CIVICMAP_PORT)")] = None,
) -> None:
    """Everything `make run` does after setup: database, migrations, sample data, serve."""
    db_migrate()
    sample_load(parcels=None, seed=7, folder=None, replace=False, if_empty=True)
    serve(host=host, port=port, workers=None)


if __name__ == "__main__":
    app()
