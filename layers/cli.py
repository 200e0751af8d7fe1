"""The planning data's commands: the District 7 sample and planners' files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from core.cli import current_settings, database, ensure_database, fail, settings_libpq_url
from core.errors import DomainError
from core.settings import Settings

sample_app = typer.Typer(help="District 7 sample planning data.", no_args_is_help=True)
etl_app = typer.Typer(help="Planners' files into layer versions.", no_args_is_help=True)
NEEDS_INPUT = 3


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

    settings = current_settings()
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
    from etl.sample import generate
    from layers.planning_set import LAYER_ORDER, LoadError, PlanningSetLoader

    settings = current_settings()
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
            raise fail(f"not loaded: {exc}") from exc
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(f"loaded {summary} in {time.monotonic() - started:.1f} s")


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
    fields: Annotated[list[str] | None, typer.Option(
        "--map", help="target=SOURCE: the file's field feeding a layer field (target= for "
        "none of them)")] = None,
    plans: Annotated[list[str] | None, typer.Option(
        "--plan", help="DECISION=new (make a zoning plan for it) or DECISION=PLAN_CODE")]
    = None,
) -> None:
    """Ingest a file: 0 when done, 3 when a doctor asks (question and candidates printed;
    answer with the same flag), 1 with the reason when it is refused."""
    import threading

    from etl.fields import PLAN_PREFIX
    from layers.catalogue.ingest import Ingest
    from layers.catalogue.service import CatalogueService, mapping_answers

    if not source.is_file() or source.is_symlink():
        raise fail(f"not a regular file: {source}")
    settings = current_settings()
    answers = {k: v for k, v in {"crs": crs, "encoding": encoding,
                                 "layer": source_layer}.items() if v}
    for pair in plans or []:
        decision, sep, plan = pair.rpartition("=")
        if not sep or not decision.strip() or not plan.strip():
            raise fail(f"--plan {pair!r}: write DECISION=new or DECISION=PLAN_CODE")
        answers[PLAN_PREFIX + " ".join(decision.split())] = plan.strip()
    try:
        answers |= mapping_answers(fields or [], "--map")
        with database(settings) as engine, engine.begin() as conn, \
                open(source, "rb") as stream:
            service = CatalogueService(conn, settings.upload_dir, settings.upload_max_mb * 1024**2)
            job_id = service.upload(layer_id, source.name, stream, answers, publish, None)
    except DomainError as exc:
        raise fail(f"not accepted: {exc.message}") from exc
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
        if question["kind"] in ("fields", "plans"):
            _print_choices(question)
            raise typer.Exit(NEEDS_INPUT)
        flag = {"crs": "--crs", "encoding": "--encoding", "layer": "--source-layer"}[
            question["kind"]]
        for c in question["candidates"]:
            detail = "  ".join(f"{k}={v}" for k, v in c.items() if k not in ("value",
                                                                             "samples"))
            samples = " | ".join(c.get("samples", []))
            typer.echo(f"  {flag} {c['value']}  {detail}  {samples}".rstrip(), err=True)
        raise typer.Exit(NEEDS_INPUT)
    if status != "succeeded" or version_status == "rejected":
        raise fail(f"refused: {message}")
    typer.echo(f"{layer_id} version {number} ({version_status}): {message}")


def _print_choices(question: dict[str, Any]) -> None:
    """The field doctor's and the plans' candidates, each as a ready flag, best first."""
    import shlex

    for entry in question["candidates"]:
        if question["kind"] == "fields":
            need = "required" if entry["required"] else "optional"
            typer.echo(f"{entry['field']} ({entry['type']}, {need}):", err=True)
            for c in entry["candidates"]:
                flag = shlex.quote(f"{entry['field']}={c['value']}")
                typer.echo(f"  --map {flag}  score={c['score']:.2f}  {'; '.join(c['why'])}"
                           f"  e.g. {' | '.join(c['samples'])}", err=True)
            if entry["none_allowed"]:
                typer.echo(f"  --map {entry['field']}=  (none of these)", err=True)
        else:
            typer.echo(f"decision {entry['decision']}:", err=True)
            for c in entry["candidates"]:
                flag = shlex.quote(f"{entry['decision']}={c['value']}")
                typer.echo(f"  --plan {flag}  {c['label']}", err=True)
