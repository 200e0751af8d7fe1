"""The tile layers: which table, which attributes, from which zoom (a fixed, trusted registry)."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_ZOOM = 20


@dataclass(frozen=True)
class TileLayer:
    """One vector-tile layer: a table's geometry and the attributes the style uses."""

    id: str
    title: str
    table: str
    columns: dict[str, str]  # attribute name -> SQL expression over alias t
    minzoom: int
    maxzoom: int = MAX_ZOOM
    where: str = "true"
    description: str = ""
    # MVT feature id (an integer expression), so a client can highlight one feature.
    feature_id: str = ""
    # Below this zoom the layer is drawn from a generalized table (same column expressions).
    generalized_below: int = 0
    generalized_table: str = ""

    @property
    def fields(self) -> dict[str, str]:
        """TileJSON vector_layers fields (name -> type word)."""
        return {name: "String" if "::text" in expr or expr.endswith("_code") else "Number"
                for name, expr in self.columns.items()}


LAYERS: dict[str, TileLayer] = {
    layer.id: layer
    for layer in [
        TileLayer("wards", "Phường (từ 01/07/2025)", "admin_unit",
                  {"code": "t.code::text", "name": "t.name::text"}, minzoom=10,
                  where="t.level = 'ward' AND t.valid_to IS NULL AND t.geom_3857 IS NOT NULL",
                  description="Wards after the 2025 merger"),
        TileLayer("wards_old", "Phường (trước 01/07/2025)", "admin_unit",
                  {"code": "t.code::text", "name": "t.name::text"}, minzoom=10,
                  where="t.level = 'ward' AND t.valid_to IS NOT NULL "
                        "AND t.geom_3857 IS NOT NULL",
                  description="Wards before the 2025 merger"),
        TileLayer("water", "Sông, kênh rạch", "water_body",
                  {"name": "t.name::text", "kind": "t.kind::text"}, minzoom=10),
        TileLayer("roads", "Đường", "road",
                  {"name": "t.name::text", "right_of_way_m": "t.right_of_way_m"}, minzoom=12),
        TileLayer("zoning_blocks", "Quy hoạch phân khu 1/2000", "zoning_block",
                  {"block_code": "t.block_code::text", "function": "t.function_category::text",
                   "colour": "t.colour::text", "floors_max": "t.floors_max",
                   "far_max": "t.far_max"}, minzoom=12),
        TileLayer("land_use", "Quy hoạch sử dụng đất", "land_use_zone",
                  {"code": "t.code::text"}, minzoom=12,
                  generalized_below=15, generalized_table="land_use_generalized"),
        # Parcels carry their id as the feature id and their number as the only attribute (a
        # 12-character key per parcel doubled the tile); their minimum zoom follows the data
        # (readable_minzoom), stored in layer_version when parcels are loaded.
        TileLayer("parcels", "Thửa đất", "parcel", {"number": "t.parcel_no"}, minzoom=16,
                  feature_id="t.id"),
    ]
}


READABLE_PX = 8  # a parcel is worth drawing when its side spans this many pixels
MIN_PARCEL_ZOOM, MAX_PARCEL_ZOOM = 15, 18


def readable_minzoom(median_area_m2: float, lat: float) -> int:
    """The lowest zoom at which a parcel of the median area spans READABLE_PX pixels."""
    side = math.sqrt(max(median_area_m2, 1.0))
    ground_res_z0 = 156_543.03392804097 * math.cos(math.radians(lat))  # m/px, 256 px tiles
    zoom = math.ceil(math.log2(READABLE_PX * ground_res_z0 / side))
    return min(max(zoom, MIN_PARCEL_ZOOM), MAX_PARCEL_ZOOM)


@dataclass(frozen=True)
class LiveLayer:
    """A tile layer of data that changes all day: rendered on each request, never cached
    here, answered with a short max-age and an ETag (see tiles/http.py LIVE)."""

    id: str
    title: str
    description: str
    minzoom: int
    cluster_below: int  # below this zoom a tile holds one feature per grid cell
    cluster_cells: int  # grid cells along a tile's side when clustering
    fields: dict[str, str]
    source_maxzoom: int  # points do not change above it: the style's source overzooms


# Reports of citizens, confirmed and on their own (a "me too" counts on its original). Only
# what the map draws: no description, no name, no contact (the tile needs none of them).
# Zooms are tile zooms: MapLibre draws a vector tile of zoom z (512 px) at map zoom z + 1, so
# the app shows single reports from map zoom 15 (where it opens: one's own street) and
# clusters of one eighth of a tile (64 px) when zoomed out further.
FEEDBACK = LiveLayer(
    "feedback", "Phản ánh kiến nghị", "Citizen reports: points, clustered below tile zoom 14",
    minzoom=10, cluster_below=14, cluster_cells=8,
    fields={"id": "Number", "status": "String", "category": "String", "late": "Boolean",
            "count": "Number"},
    source_maxzoom=14,
)
LIVE_LAYERS: dict[str, LiveLayer] = {FEEDBACK.id: FEEDBACK}
# The public statuses, most urgent first (nobody has acted on a received report yet): a
# cluster takes its most urgent member's. Must match permits.feedback.workflow.ReportStatus.
FEEDBACK_URGENCY = ("received", "assigned", "in_progress", "question", "answered", "closed")
