// An officers' map report (permits/office/report.py): the deck.gl layers pydeck described, read
// from the page's JSON block, drawn over our own district map with MapLibre. Everything it
// loads (this bundle, the style, tiles, glyphs) comes from the platform itself.
import * as maplibregl from "maplibre-gl";
import { MapboxOverlay } from "@deck.gl/mapbox";
import { ColumnLayer, GeoJsonLayer, ScatterplotLayer, TextLayer } from "@deck.gl/layers";
import { JSONConverter } from "@deck.gl/json";

// The page carries no style of its own (the policy allows our files only): laid out here.
Object.assign(document.body.style, { margin: "0", height: "100vh", display: "flex",
  flexDirection: "column", fontFamily: "system-ui, sans-serif" });
for (const id of ["report-title", "report-legend"]) {
  Object.assign(document.getElementById(id).style, { margin: "0", padding: "6px 12px" });
}
document.getElementById("report-title").style.fontSize = "1.05rem";
document.getElementById("report-legend").style.fontSize = "0.85rem";
Object.assign(document.getElementById("deck-container").style, { flex: "1", minHeight: "0",
  position: "relative" });

const spec = JSON.parse(document.getElementById("deck-spec").textContent);
const converter = new JSONConverter({
  configuration: { classes: { ColumnLayer, GeoJsonLayer, ScatterplotLayer, TextLayer } },
});
const deck = converter.convert({ layers: spec.layers });
const view = spec.initialViewState ?? {};
const map = new maplibregl.Map({
  container: "deck-container",
  style: "/styles/district.json",
  center: [view.longitude ?? 106.7195, view.latitude ?? 10.7335],
  zoom: view.zoom ?? 13,
  pitch: view.pitch ?? 0,
  bearing: view.bearing ?? 0,
  attributionControl: false,
});
const overlay = new MapboxOverlay({
  layers: deck.layers,
  getTooltip: ({ object }) => object?.tip ?? null,
});
map.addControl(overlay);
map.addControl(new maplibregl.NavigationControl(), "top-right");
map.once("idle", () => { document.body.dataset.drawn = String(deck.layers.length); });
window.__report = { map, overlay };
