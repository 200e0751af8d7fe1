// bench pwa's yardstick: our style drawn by MapLibre and nothing else, on the same server (the
// page is built into dist only for the bench). The first idle is marked as the app marks it.
import * as maplibregl from "maplibre-gl";

Object.assign(document.body.style, { margin: "0", height: "100vh", display: "flex",
  flexDirection: "column", fontFamily: "system-ui, sans-serif" });
Object.assign(document.querySelector("h1").style, { fontSize: "1.05rem", margin: "0",
  padding: "8px 16px" });
Object.assign(document.getElementById("map").style, { flex: "1", minHeight: "0" });
const map = new maplibregl.Map({
  container: "map",
  style: "/styles/district.json",
  center: [106.7195, 10.7335],
  zoom: 15,
  attributionControl: false,
});
map.once("idle", () => performance.mark("civicmap:first-map"));
window.__bare = map;
