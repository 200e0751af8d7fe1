// The shell: the bar, the search, the map with its layers and legend, and the route table.
// Each screen is a view of its own (src/views/), its code fetched when its route first opens,
// so that the bytes before the first map stay the same as screens are added.
import * as maplibregl from "maplibre-gl";
import { createApi } from "./api.js";
import { formatDate, formatNumber, translator } from "./i18n.js";
import { createRouter } from "./router.js";
import { createSession } from "./session.js";

// One line a screen: the path (":name" is a parameter) and its view's code.
const ROUTES = [
  { path: "/parcel/:key", view: () => import("./views/parcel.js") },
  { path: "/account", view: () => import("./views/account.js") },
  { path: "/planner", view: () => import("./views/planner.js") },
  { path: "/dossiers", view: () => import("./views/dossiers.js") },
  { path: "/dossiers/:id", view: () => import("./views/dossier.js") },
  { path: "/lookup", view: () => import("./views/lookup.js") },
  { path: "/lookup/:code", view: () => import("./views/lookup.js") },
  { path: "/supplement/:code", view: () => import("./views/lookup.js") },
  { path: "/procedures", view: () => import("./views/procedures.js") },
  { path: "/procedures/:code", view: () => import("./views/procedures.js") },
  { path: "/apply/:procedure", view: () => import("./views/apply.js") },
  { path: "/feedback/new", view: () => import("./views/feedback-new.js") },
  { path: "/feedback/:id", view: () => import("./views/feedback.js") }, // and "mine"
  { path: "/office", view: () => import("./views/office.js") },
  { path: "/office/:section", view: () => import("./views/office.js") },
  // { path: "/report", view: () => import("./views/report.js") },
];

const asked = new URLSearchParams(location.search).get("lang");
const lang = (asked || localStorage.getItem("lang")) === "en" ? "en" : "vi";
const t = translator(lang);
document.documentElement.lang = lang;
for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
for (const el of document.querySelectorAll("[data-i18n-aria]")) {
  el.setAttribute("aria-label", t(el.dataset.i18nAria));
}
for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
  el.placeholder = t(el.dataset.i18nPlaceholder);
}
const other = lang === "vi" ? "en" : "vi";
const langButton = document.getElementById("lang");
langButton.textContent = other.toUpperCase();
langButton.lang = other;
langButton.setAttribute("aria-label", other === "en" ? "English" : "Tiếng Việt");
langButton.addEventListener("click", () => {
  localStorage.setItem("lang", other);
  const url = new URL(location.href);
  url.searchParams.set("lang", other);
  location.replace(url);
});

const map = new maplibregl.Map({
  container: "map",
  style: "/styles/district.json",
  center: [106.7195, 10.7335],
  zoom: 15,
  attributionControl: false,
  locale: {
    "NavigationControl.ZoomIn": t("map.zoom_in"),
    "NavigationControl.ZoomOut": t("map.zoom_out"),
    "GeolocateControl.FindMyLocation": t("map.locate"),
    "GeolocateControl.LocationNotAvailable": t("map.locate"),
  },
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
const locate = new maplibregl.GeolocateControl({ positionOptions: { enableHighAccuracy: true } });
map.addControl(locate, "top-right");

const offline = document.getElementById("offline");
const onlineState = () => { offline.hidden = navigator.onLine; };
window.addEventListener("online", onlineState);
window.addEventListener("offline", onlineState);
onlineState();
const state = { map, loaded: false, selected: null, card: null };
window.__civicmap = state;
map.once("idle", () => {
  performance.mark("civicmap:first-map");
  state.loaded = true;
  // After the first map: the worker's install downloads the shell and the views again, which
  // on a slow link would share it with the first map's tiles and glyphs.
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");
});

const status = document.getElementById("status");
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

// A view's own panel: a non-modal dialog titled by its `${id}-title`, with a close button;
// heading(text) makes that title, message(text, after) shows a titled note alone in the panel.
function panel(id) {
  const section = el("section", undefined, "account");
  section.id = id;
  section.setAttribute("role", "dialog");
  section.setAttribute("aria-modal", "false");
  section.setAttribute("aria-labelledby", `${id}-title`);
  const close = el("button", "×", "sheet-close");
  close.type = "button";
  close.setAttribute("aria-label", t("sheet.close"));
  close.addEventListener("click", () => ctx.router.close());
  const view = el("div", undefined, "account-view");
  section.append(close, view);
  document.body.append(section);
  const heading = (text) => {
    const h = el("h2", text);
    h.id = `${id}-title`;
    h.tabIndex = -1;
    return h;
  };
  const message = (text, after = []) => {
    const box = el("div", undefined, "account-form");
    box.append(heading(text), ...after);
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
  };
  return { panel: section, view, heading, message };
}

// A pin on the map (a report's place); returns the function that takes it away.
function pin(lngLat) {
  const marker = new maplibregl.Marker({ color: "#A4161A" }).setLngLat(lngLat).addTo(map);
  return () => marker.remove();
}

const api = createApi();
const session = createSession(api);
const ctx = { map, api, session, state, lang, t, el, panel, pin, status, formatDate,
  formatNumber, translate: (strings) => translator(lang, strings) };
const router = createRouter(ROUTES, ctx);
ctx.router = router;
state.api = api;
state.session = session;
state.router = router;
router.start();
// The card's code is wanted at the first tap: fetched soon after the first map, not before.
map.once("idle", () => {
  setTimeout(() => { router.preload("/parcel/:key")?.catch(() => {}); }, 1500);
});

// Layer switcher: each checkbox shows or hides a group of style layers.
const GROUPS = {
  zoning: ["zoning-blocks", "block-codes"],
  "land-use": ["land-use"],
  parcels: ["parcels", "parcel-selected", "parcel-numbers"],
  "wards-old": ["wards-old"],
  // With today's flood events (floods.js adds their layers once the reports are shown).
  feedback: ["feedback-clusters", "feedback-cluster-counts", "feedback-points", "floods",
    "flood-outlines", "flood-labels"],
};
// Shown only after the first map (the style hides them): their own source loads no tile
// until one of its layers is visible, so the first map waits for none of the reports.
const AFTER_FIRST_MAP = new Set(["feedback"]);
const layersButton = document.getElementById("layers-button");
const layersPanel = document.getElementById("layers");
layersButton.addEventListener("click", () => {
  layersPanel.hidden = !layersPanel.hidden;
  layersButton.setAttribute("aria-expanded", String(!layersPanel.hidden));
});
function applyGroup(box) {
  const wanted = box.checked ? "visible" : "none";
  if (box.value === "feedback" && box.checked) {
    import("./floods.js").then((floods) => floods.showFloods(ctx)).catch(() => {});
  }
  for (const id of GROUPS[box.value]) {
    // Only a real change: setting a layout property, even to its value, has MapLibre lay the
    // source's tiles out again (at load that would hold back the first map).
    if (map.getLayer(id) && (map.getLayoutProperty(id, "visibility") ?? "visible") !== wanted) {
      map.setLayoutProperty(id, "visibility", wanted);
    }
  }
}
const boxes = layersPanel.querySelectorAll("input[type=checkbox]");
boxes.forEach((box) => box.addEventListener("change", () => applyGroup(box)));
map.once("load", () => boxes.forEach((box) => {
  if (!AFTER_FIRST_MAP.has(box.value)) applyGroup(box);
}));
map.once("idle", () => boxes.forEach((box) => {
  if (AFTER_FIRST_MAP.has(box.value)) applyGroup(box);
}));

// The legend (inside the closed layers panel) is asked for after the first map: on a slow
// link its request would share the bandwidth with the first tiles.
map.once("idle", () => api.get("/api/land-use-codes").then(({ ok, data: codes }) => {
  if (!ok) return;
  const legend = document.getElementById("legend");
  for (const c of codes.filter((code) => code.used)) {
    const item = el("li");
    const swatch = el("span", undefined, "swatch");
    swatch.style.background = c.fill_colour;
    item.append(swatch, el("span", `${c.code} — ${lang === "en" ? c.name_en : c.name_vi}`));
    legend.append(item);
  }
}));

const results = document.getElementById("results");

function result(text, action) {
  const item = el("li");
  const button = el("button", text);
  button.type = "button";
  button.addEventListener("click", () => { results.hidden = true; action(); });
  item.append(button);
  return item;
}

function goToKey(key) {
  router.go(`#/parcel/${key}`, { replace: location.hash.startsWith("#/parcel/"), state: {} });
}

document.getElementById("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const q = document.getElementById("q").value.trim();
  results.replaceChildren();
  if (/^\d{12}$/.test(q)) {
    goToKey(q);
    return;
  }
  const items = [];
  const sheetParcel = q.match(/^(.+?)\s+(\d{1,3})\s*\/\s*(\d{1,4})$/);
  if (sheetParcel) {
    const [, ward, sheetNo, parcelNo] = sheetParcel;
    const res = await api.get(`/api/parcels?ward=${encodeURIComponent(ward)}&sheet=${sheetNo}` +
      `&parcel=${parcelNo}`);
    if (res.ok) {
      for (const p of res.data.items) {
        items.push(result(t("search.parcel", { number: p.number, sheet: p.sheet,
          ward: p.ward_old }), () => goToKey(p.key)));
      }
    }
  } else if (q.length >= 2) {
    const res = await api.get(`/api/search?q=${encodeURIComponent(q)}`);
    if (res.ok) {
      const found = res.data;
      for (const s of found.streets) {
        items.push(result(t("search.street", { name: s.name,
          width: formatNumber(s.right_of_way_m, lang) }),
          () => map.fitBounds(s.bbox, { padding: 40 })));
      }
      for (const p of found.parcels) {
        items.push(result(`${p.address} — ${p.ward_current ?? p.ward_old}`,
          () => goToKey(p.key)));
      }
    }
  }
  if (!items.length) items.push(el("li", t("search.none"), "muted"));
  results.append(...items);
  results.hidden = false;
});

const accountButton = document.getElementById("account-button");
const plannerButton = document.getElementById("planner-button");
accountButton.addEventListener("click", () => router.toggle("#/account"));
plannerButton.addEventListener("click", () => router.toggle("#/planner"));
session.onChange((person) => {
  accountButton.textContent = t(person ? "account.mine" : "account.button");
  plannerButton.hidden = !person?.roles.includes("planner");
});
if (session.hinted()) {
  accountButton.textContent = t("account.mine");
  session.load(); // who is signed in: roles decide what else the app offers
}

// A report from the map: a long press (a touch held still 600 ms; a right-click on a desktop)
// or the locate-me position offers "Phản ánh tại đây" at that place.
let offered = null;
let pressedAt = 0;
function offerReport({ lng, lat }, key) {
  offered?.();
  const unpin = pin([lng, lat]);
  const box = el("section", undefined, "here");
  box.id = "feedback-here";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", t(key));
  const go = el("a", t(key), "button-link");
  go.href = `#/feedback/new?lon=${lng.toFixed(6)}&lat=${lat.toFixed(6)}`;
  const mine = el("a", t("feedback.mine"), "link");
  mine.href = "#/feedback/mine";
  const cancel = el("button", "×", "sheet-close");
  cancel.type = "button";
  cancel.setAttribute("aria-label", t("sheet.close"));
  box.append(cancel, go, mine);
  document.body.append(box);
  offered = () => { offered = null; unpin(); box.remove(); };
  for (const node of [go, mine, cancel]) node.addEventListener("click", () => offered?.());
  go.focus({ preventScroll: true });
}
let press = null;
const release = () => { clearTimeout(press?.timer); press = null; };
map.on("touchstart", (event) => {
  release();
  if (event.points.length !== 1) return;
  press = { point: event.point, timer: setTimeout(() => {
    if (Date.now() - pressedAt < 1000) return; // its contextmenu came first (Android)
    pressedAt = Date.now();
    offerReport(event.lngLat, "feedback.here");
  }, 600) };
});
map.on("touchmove", (event) => {
  if (press && press.point.dist(event.point) > 10) release();
});
map.on("touchend", release);
map.on("touchcancel", release);
map.on("contextmenu", (event) => {
  event.originalEvent.preventDefault();
  if (Date.now() - pressedAt < 1000) return; // the same long press, told twice (Android)
  pressedAt = Date.now();
  offerReport(event.lngLat, "feedback.here");
});
locate.on("geolocate", (position) => offerReport(
  { lng: position.coords.longitude, lat: position.coords.latitude }, "feedback.at_me"));

// Reports kept on the phone go when the connection is back, and at the app's start; an
// anonymous one that went in the background asks for its code.
const sendKept = () => {
  if (!localStorage.getItem("civicmap-feedback-pending")) return;
  import("./feedback-store.js").then((store) => store.flush(ctx)).catch(() => {});
};
window.addEventListener("online", sendKept);
map.once("idle", sendKept);
setTimeout(sendKept, 3000);
window.addEventListener("civicmap:feedback", ({ detail }) => {
  if (detail.kind !== "sent" || !detail.entry.sent.needsCode) return;
  if (router.current() === null) router.go(`#/feedback/${detail.entry.sent.id}`);
});

// The reports' layers (the style's, when it has them): a report opens, a cluster zooms in.
const REPORT_LAYERS = ["feedback-points", "feedback-clusters"];
function reportAt(point) {
  const layers = REPORT_LAYERS.filter((id) => map.getLayer(id));
  if (!layers.length) return null;
  const near = [[point.x - 8, point.y - 8], [point.x + 8, point.y + 8]];
  return map.queryRenderedFeatures(near, { layers })[0] ?? null;
}

map.on("click", async (event) => {
  if (Date.now() - pressedAt < 800) return; // the end of a long press
  offered?.();
  const hit = reportAt(event.point);
  if (hit?.layer.id === "feedback-clusters") {
    map.easeTo({ center: hit.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 18) });
    return;
  }
  if (hit) {
    router.go(`#/feedback/${hit.properties.id ?? hit.id}`);
    return;
  }
  // The office's queue on the map: its dots answer their own taps (views/office.js).
  if (map.getLayer("office-queue-dots") && map.queryRenderedFeatures(
    [[event.point.x - 8, event.point.y - 8], [event.point.x + 8, event.point.y + 8]],
    { layers: ["office-queue-dots"] }).length) return;
  const { lng, lat } = event.lngLat;
  state.clicked = [lng, lat];
  status.textContent = t("card.loading");
  const result = await api.get(`/api/parcels/at?lon=${lng}&lat=${lat}`);
  if (!result.ok) {
    if (router.current() === "/parcel/:key") router.close();
    status.textContent = t("card.none");
    return;
  }
  router.go(`#/parcel/${result.data.parcel.key}`, { replace: true,
    state: { card: result.data } });
});
