// Today's flood events on the map: the drainage-and-flooding reports of one day grouped by
// area (the server's /api/feedback/floods), drawn under the report points while the reports'
// layer is shown (main.js's layer group names its three layers), an open event filled, a closed
// one faint, each labelled with its count. Loaded after the first map, and asked for again
// each time the reports are shown (the layers are added with the first event).
const STRINGS = {
  vi: { "flood.open": "Ngập · {n} phản ánh", "flood.closed": "Đã rút · {n} phản ánh" },
  en: { "flood.open": "Flooding · {n} reports", "flood.closed": "Receded · {n} reports" },
};
const BLUE = "#1D4ED8";

export function featuresOf(floods, t) {
  return {
    type: "FeatureCollection",
    features: floods.map((f) => ({
      type: "Feature", id: f.id, geometry: f.geometry,
      properties: { id: f.id, status: f.status, reports: f.reports,
        label: t(`flood.${f.status === "closed" ? "closed" : "open"}`, { n: f.reports }) },
    })),
  };
}

export async function showFloods({ map, api, translate }) {
  const t = translate(STRINGS);
  const { ok, data } = await api.get("/api/feedback/floods");
  if (!ok) return;
  const collection = featuresOf(data, t);
  const source = map.getSource("floods");
  if (source) {
    source.setData(collection);
    return;
  }
  // Most days have none: no layers then, so the map is not restyled and drawn again for them
  // (on a phone's slow GPU, a frame of the whole map) just after the first map.
  if (!collection.features.length) return;
  map.addSource("floods", { type: "geojson", data: collection });
  // Under the reports' clusters and points, so that a tap still opens a report.
  const below = map.getLayer("feedback-clusters") ? "feedback-clusters" : undefined;
  const closed = ["==", ["get", "status"], "closed"];
  map.addLayer({ id: "floods", type: "fill", source: "floods",
    paint: { "fill-color": BLUE, "fill-opacity": ["case", closed, 0.06, 0.28] } }, below);
  map.addLayer({ id: "flood-outlines", type: "line", source: "floods",
    paint: { "line-color": BLUE, "line-width": ["case", closed, 1, 2],
      "line-opacity": ["case", closed, 0.5, 0.9] } }, below);
  const font = map.getLayer("feedback-cluster-counts")
    ? map.getLayoutProperty("feedback-cluster-counts", "text-font") : undefined;
  if (font) {
    map.addLayer({ id: "flood-labels", type: "symbol", source: "floods",
      layout: { "text-field": ["get", "label"], "text-font": font, "text-size": 12 },
      paint: { "text-color": BLUE, "text-halo-color": "#FFFFFF", "text-halo-width": 1.5 } },
    below);
  }
}
