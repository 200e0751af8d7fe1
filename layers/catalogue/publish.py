"""Publishing a version (or re-publishing an earlier one: the rollback) in one transaction:
the planning table is rebuilt from the version's table, the facts behind parcel cards follow,
and only the tiles over what changed are dropped."""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from core.errors import ConflictError, NotFoundError
from core.workflow import Actor, fire, preflight
from layers.catalogue.workflow import VERSION, VersionStatus
from layers.text import normalize_search
from tiles import changes as tile_changes

# Kinds whose published data live in a planning table, and the script that fills it.
PUBLISHERS = {"land_use": "publish_land_use.sql",
              "zoning_blocks": "publish_zoning_blocks.sql",
              "parcels": "publish_parcels.sql",
              "roads": "publish_roads.sql",
              "water": "publish_water.sql",
              "zoning_plans": "publish_zoning_plans.sql",
              "detailed_plans": "publish_detailed_plans.sql"}
# What a kind's version makes before its publisher runs (plans its blocks named by decision).
BEFORE = {"zoning_blocks": "publish_new_plans.sql"}
# What a publisher left that refuses the whole publishing (the caller rolls back): a query
# answering the names of the features in the way, or NULL.
REFUSALS = {
    "zoning_plans": ("SELECT string_agg(plan_code, ', ' ORDER BY plan_code) FROM zoning_plan p "
                     "WHERE NOT EXISTS (SELECT 1 FROM plan_in i WHERE i.plan_code = p.plan_code)",
                     "zoning blocks still belong to the plans {} that this version leaves out: "
                     "publish zoning blocks without them first"),
}
# Search text made by the one Python normaliser the look-ups use: (table, text, its search
# column) for the rows a publisher left without it.
SEARCH_TEXT = {"parcels": ("parcel", "address", "address_search"),
               "roads": ("road", "name", "name_search")}
REBUILD = ("finish_planning_set.sql", "parcel_facts.sql", "generalize.sql")


def _script(name: str) -> str:
    return resources.files("layers.sql").joinpath(name).read_text()


def _fill_search_text(conn: psycopg.Connection[Any], table: str, text: str,
                      search: str) -> None:
    """Fill the search column where a publisher left it empty (NULL or '')."""
    names = {"t": sql.Identifier(table), "x": sql.Identifier(text), "s": sql.Identifier(search)}
    rows = conn.cursor(row_factory=tuple_row).execute(sql.SQL(
        "SELECT id, {x} FROM {t} WHERE {x} IS NOT NULL AND coalesce({s}, '') = ''")
        .format(**names)).fetchall()
    if not rows:
        return
    conn.execute("CREATE TEMP TABLE search_text (id bigint, value text) ON COMMIT DROP")
    with conn.cursor() as cur, cur.copy("COPY search_text (id, value) FROM STDIN") as copy:
        for row_id, value in rows:
            copy.write_row((row_id, normalize_search(value)))
    conn.execute(sql.SQL("UPDATE {t} t SET {s} = v.value FROM search_text v WHERE t.id = v.id")
                 .format(**names))
    conn.execute("DROP TABLE search_text")


class _Tuples:
    """The caller's connection answering plain tuples, whatever its row factory."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, query: Any, params: Any = None) -> psycopg.Cursor[tuple[Any, ...]]:
        """Execute on a tuple cursor."""
        return self.raw.cursor(row_factory=tuple_row).execute(query, params)


def publish(raw: psycopg.Connection[Any], layer_id: str, number: int, actor: Actor,
            if_match: str | None = None) -> dict[str, Any]:
    """Publish version `number` of the layer (a superseded one: roll back to it); the caller
    commits. The engine checks the move before the work and makes it after."""
    conn = _Tuples(raw)
    layer = conn.execute("SELECT kind, live_table FROM catalogue_layer WHERE id = %s FOR UPDATE",
                         (layer_id,)).fetchone()
    if layer is None:
        raise NotFoundError(f"no layer {layer_id!r}", "layer_id")
    kind, live_table = layer
    row = conn.execute("SELECT id, status, data_table FROM catalogue_version "
                       "WHERE layer_id = %s AND number = %s", (layer_id, number)).fetchone()
    if row is None:
        raise NotFoundError(f"no version {number} of {layer_id}", "number")
    version_id, status, data_table = row
    action = "rollback" if status == VersionStatus.SUPERSEDED else "publish"
    preflight(raw, VERSION, version_id, action, actor, if_match=if_match)
    changed: dict[str, int] = {}
    if live_table is not None:
        script = PUBLISHERS.get(kind)
        if script is None:
            raise ConflictError(f"publishing {kind} from an upload is not built yet", "kind")
        tile_changes.snapshot(raw)
        version_table = sql.Identifier("layer_data", data_table).as_string(raw)
        if kind in BEFORE:
            raw.execute(_script(BEFORE[kind]).replace("{version}", version_table),
                        {"version_id": version_id})
        raw.execute(_script(script).replace("{version}", version_table))
        if kind in REFUSALS:
            query, message = REFUSALS[kind]
            in_the_way = conn.execute(query).fetchone()
            if in_the_way and in_the_way[0]:
                raise ConflictError(message.format(in_the_way[0]), "number")
        if kind in SEARCH_TEXT:
            _fill_search_text(raw, *SEARCH_TEXT[kind])
        for name in REBUILD:
            raw.execute(_script(name))
        changed = tile_changes.apply(raw)
    supersede_published(raw, layer_id, actor.person_id)
    now = conn.execute("SELECT now()").fetchone()
    fired = fire(raw, VERSION, version_id, action, actor, if_match=if_match,
                 detail={"tiles_changed": changed}, values={"published_at": now[0] if now
                                                            else None})
    return {"layer": layer_id, "number": number, "status": fired.target, "action": action,
            "tile_features_changed": changed, "etag": fired.etag}


def supersede_published(raw: psycopg.Connection[Any], layer_id: str,
                        actor_id: int | None) -> None:
    """The layer's published version, if any, steps aside (the platform's move)."""
    found = _Tuples(raw).execute(
        "SELECT id FROM catalogue_version WHERE layer_id = %s AND status = 'published'",
        (layer_id,)).fetchone()
    if found:
        fire(raw, VERSION, int(found[0]), "supersede", Actor(actor_id))
