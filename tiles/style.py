"""The MapLibre style of the district map: our tiles, our glyphs, official land-use colours."""

from __future__ import annotations

from typing import Any

FONT = "Noto Sans Regular"
FONT_BOLD = "Noto Sans Bold"
FALLBACK_FILL = "#E0E0E0"


def _match_colour(colours: dict[str, str]) -> list[Any]:
    expression: list[Any] = ["match", ["get", "code"]]
    for code, colour in sorted(colours.items()):
        expression += [code, colour]
    return [*expression, FALLBACK_FILL]


def district_style(base_url: str, source: dict[str, Any], land_use_colours: dict[str, str],
                   parcel_minzoom: int, center: list[float]) -> dict[str, Any]:
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
        ],
    }
