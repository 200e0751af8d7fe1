"""The MapLibre style of the district map: our tiles, our glyphs, official land-use colours."""

from __future__ import annotations

from typing import Any

FONT = "Noto Sans Regular"
FONT_BOLD = "Noto Sans Bold"
FALLBACK_FILL = "#E0E0E0"
# Reports by status: waiting blue, being handled amber, answered green, closed grey; a late
# report (past its deadline, not closed) gets a red ring.
STATUS_COLOURS = {"received": "#1E88E5", "assigned": "#1E88E5", "in_progress": "#FFB300",
                  "question": "#FFB300", "answered": "#43A047", "closed": "#9E9E9E"}
MIXED_COLOUR = "#5C6BC0"
LATE_RING = "#D62828"


def _match_colour(colours: dict[str, str]) -> list[Any]:
    expression: list[Any] = ["match", ["get", "code"]]
    for code, colour in sorted(colours.items()):
        expression += [code, colour]
    return [*expression, FALLBACK_FILL]


def _status_colour() -> list[Any]:
    expression: list[Any] = ["match", ["get", "status"]]
    for status, colour in STATUS_COLOURS.items():
        expression += [status, colour]
    return [*expression, MIXED_COLOUR]


def feedback_layers() -> list[dict[str, Any]]:
    """The public reports: clusters (sized by count, labelled) below map zoom 15, points
    from it (the source's tiles of zoom 14, overzoomed).

    Hidden in the style: a source whose layers are all hidden loads no tile, so the first
    map waits for none of them; the app shows them after its first idle map. Showing them
    then lays out only this source's tiles, not the district's (unlike wards-old below).
    """
    hidden = {"visibility": "none"}
    ring = ["case", ["boolean", ["get", "late"], False], LATE_RING, "#FFFFFF"]
    return [
        {"id": "feedback-clusters", "type": "circle", "source": "feedback",
         "source-layer": "feedback", "filter": ["has", "count"], "layout": hidden,
         "paint": {"circle-color": _status_colour(), "circle-opacity": 0.85,
                   "circle-radius": ["interpolate", ["linear"], ["get", "count"],
                                     2, 11, 10, 15, 100, 22, 1000, 30],
                   "circle-stroke-color": ring,
                   "circle-stroke-width": ["case", ["boolean", ["get", "late"], False], 3, 1.5]}},
        {"id": "feedback-cluster-counts", "type": "symbol", "source": "feedback",
         "source-layer": "feedback", "filter": ["has", "count"],
         "layout": {**hidden, "text-field": ["to-string", ["get", "count"]],
                    "text-font": [FONT_BOLD], "text-size": 12, "text-allow-overlap": True},
         "paint": {"text-color": "#FFFFFF"}},
        {"id": "feedback-points", "type": "circle", "source": "feedback",
         "source-layer": "feedback", "filter": ["!", ["has", "count"]], "layout": hidden,
         "paint": {"circle-color": _status_colour(),
                   "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 4, 18, 8],
                   "circle-stroke-color": ring,
                   "circle-stroke-width": ["case", ["boolean", ["get", "late"], False],
                                           2.5, 1]}},
    ]


def district_style(base_url: str, source: dict[str, Any], land_use_colours: dict[str, str],
                   parcel_minzoom: int, center: list[float],
                   feedback: dict[str, Any] | None = None) -> dict[str, Any]:
    """The style document; every URL in it points at this platform."""
    road_width = ["interpolate", ["exponential", 2], ["zoom"],
                  12, ["*", ["get", "right_of_way_m"], 0.02],
                  18, ["*", ["get", "right_of_way_m"], 1.6]]
    return {
        "version": 8,
        "name": "civicmap — Quận 7",
        "center": center[:2],
        "zoom": 14,
        "sources": {
            "district": source,
            **({"feedback": feedback} if feedback else {}),
        },
        "glyphs": f"{base_url}fonts/{{fontstack}}/{{range}}.pbf",
        # No "sprite" until a layer draws an icon (the feedback and dossier points): decoding
        # the unused sheet took ~165 ms of the phone's main thread at load (measured).
        "layers": [
            {"id": "background", "type": "background",
             "paint": {"background-color": "#F6F4EF"}},
            {"id": "land-use", "type": "fill", "source": "district", "source-layer": "land_use",
             "paint": {"fill-color": _match_colour(land_use_colours), "fill-opacity": 0.75}},
            {"id": "water", "type": "fill", "source": "district", "source-layer": "water",
             "paint": {"fill-color": "#A0D8F0"}},
            {"id": "roads", "type": "line", "source": "district", "source-layer": "roads",
             "layout": {"line-cap": "round", "line-join": "round"},
             "paint": {"line-color": "#FFFFFF", "line-width": road_width}},
            {"id": "zoning-blocks", "type": "line", "source": "district",
             "source-layer": "zoning_blocks",
             "paint": {"line-color": "#7A3E9D", "line-width": 1.2,
                       "line-dasharray": [3, 2]}},
            {"id": "parcels", "type": "line", "source": "district", "source-layer": "parcels",
             "minzoom": parcel_minzoom,
             "paint": {"line-color": "#6B6B6B", "line-width": 0.6}},
            {"id": "parcel-selected", "type": "line", "source": "district",
             "source-layer": "parcels", "minzoom": parcel_minzoom,
             "paint": {"line-color": "#D62828", "line-width": 3,
                       "line-opacity": ["case", ["boolean", ["feature-state", "selected"],
                                                 False], 1, 0]}},
            # Hidden until asked for (the layers panel's box starts unchecked): a layer the app
            # hid at load had MapLibre lay the whole source's tiles out again before its first
            # idle map.
            {"id": "wards-old", "type": "line", "source": "district",
             "source-layer": "wards_old", "layout": {"visibility": "none"},
             "paint": {"line-color": "#9E9E9E", "line-width": 1, "line-dasharray": [1, 2]}},
            {"id": "wards", "type": "line", "source": "district", "source-layer": "wards",
             "paint": {"line-color": "#37474F", "line-width": 2}},
            {"id": "road-names", "type": "symbol", "source": "district",
             "source-layer": "roads", "minzoom": 14,
             "layout": {"symbol-placement": "line", "text-field": ["get", "name"],
                        "text-font": [FONT], "text-size": 12},
             "paint": {"text-color": "#37474F", "text-halo-color": "#FFFFFF",
                       "text-halo-width": 1.5}},
            {"id": "block-codes", "type": "symbol", "source": "district",
             "source-layer": "zoning_blocks", "minzoom": 14,
             "layout": {"text-field": ["get", "block_code"], "text-font": [FONT_BOLD],
                        "text-size": 12},
             "paint": {"text-color": "#7A3E9D", "text-halo-color": "#FFFFFF",
                       "text-halo-width": 1.5}},
            {"id": "parcel-numbers", "type": "symbol", "source": "district",
             "source-layer": "parcels", "minzoom": max(parcel_minzoom + 1, 18),
             "layout": {"text-field": ["to-string", ["get", "number"]],
                        "text-font": [FONT], "text-size": 10},
             "paint": {"text-color": "#424242"}},
            {"id": "ward-names", "type": "symbol", "source": "district",
             "source-layer": "wards", "maxzoom": 16,
             "layout": {"text-field": ["concat", "Phường ", ["get", "name"]],
                        "text-font": [FONT_BOLD], "text-size": 14},
             "paint": {"text-color": "#263238", "text-halo-color": "#FFFFFF",
                       "text-halo-width": 2}},
            # Above the parcels and the labels: a report is what a tap should find first.
            *(feedback_layers() if feedback else []),
        ],
    }
