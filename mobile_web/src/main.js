import * as maplibregl from "maplibre-gl";
import { accountScreens } from "./account.js";
import { plannerScreens } from "./planner.js";
import { formatDate, formatNumber, translator } from "./i18n.js";

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
map.addControl(new maplibregl.GeolocateControl({ positionOptions: { enableHighAccuracy: true } }),
  "top-right");

const offline = document.getElementById("offline");
const onlineState = () => { offline.hidden = navigator.onLine; };
window.addEventListener("online", onlineState);
window.addEventListener("offline", onlineState);
onlineState();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");
const state = { map, loaded: false, selected: null, card: null };
window.__civicmap = state;
map.once("idle", () => {
  performance.mark("civicmap:first-map");
  state.loaded = true;
});

const sheet = document.getElementById("sheet");
const title = document.getElementById("sheet-title");
const body = document.getElementById("sheet-body");
const status = document.getElementById("status");
sheet.querySelector(".sheet-close").addEventListener("click", () => {
  sheet.hidden = true;
  select(null);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !sheet.hidden) {
    sheet.hidden = true;
    select(null);
  }
});

function select(id) {
  // Before the style has its source (a deep link opens the card sooner), the highlight waits
  // for the "load" below.
  const ready = Boolean(map.getSource("district"));
  if (state.selected !== null && ready) {
    map.setFeatureState({ source: "district", sourceLayer: "parcels", id: state.selected },
      { selected: false });
  }
  state.selected = id;
  if (id !== null && ready) {
    map.setFeatureState({ source: "district", sourceLayer: "parcels", id }, { selected: true });
  }
}
map.once("load", () => select(state.selected));

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function renderCard(card) {
  const p = card.parcel;
  title.textContent = t("card.parcel", { number: p.number, sheet: p.sheet });
  body.replaceChildren();
  const facts = el("dl");
  const fact = (label, value) => { facts.append(el("dt", label), el("dd", value)); };
  fact(t("card.key"), p.key);
  fact(t("card.area"), `${formatNumber(p.area_m2, lang)} m²`);
  const current = p.ward.current ? p.ward.current.name : p.ward.old.name;
  fact(t("card.ward"), current);
  facts.append(el("dt", ""), el("dd", t("card.ward_old", { name: p.ward.old.name }), "muted"));
  if (p.address) fact(t("card.address"), p.address);
  body.append(facts);
  if (card.zoning.length) {
    body.append(el("h3", t("card.zoning")));
    for (const z of card.zoning) {
      body.append(el("p", t("card.block", { code: z.block_code, function: z.function,
        share: formatNumber(z.share_pct, lang) })));
      body.append(el("p", t("card.indicators", { min: z.floors_min, max: z.floors_max,
        coverage: formatNumber(z.coverage_max_pct, lang), far: formatNumber(z.far_max, lang) }),
        "muted"));
    }
  }
  if (card.land_use.length) {
    body.append(el("h3", t("card.land_use")));
    const bar = el("div", undefined, "share-bar");
    bar.setAttribute("aria-hidden", "true");
    for (const u of card.land_use) {
      const part = el("span");
      part.style.width = `${u.share_pct}%`;
      part.style.background = u.colour || "#ccc";
      bar.append(part);
    }
    body.append(bar, el("p", card.land_use.map((u) =>
      `${u.code} ${lang === "en" ? u.name_en : u.name_vi} ${formatNumber(u.share_pct, lang)}%`)
      .join(" · ")));
  }
  if (card.road_frontage.length) {
    body.append(el("h3", t("card.frontage")));
    for (const r of card.road_frontage) {
      body.append(el("p", t("card.road", { street: r.street,
        width: formatNumber(r.right_of_way_m, lang) })));
    }
  }
  if (card.plans.length) {
    body.append(el("h3", t("card.plans")));
    for (const plan of card.plans) {
      body.append(el("p", t("card.plan", { decision: plan.decision_no,
        date: formatDate(plan.decision_date), name: plan.name }), "muted"));
    }
  }
  if (card.services.length) {
    body.append(el("h3", t("card.services")));
    const list = el("div", undefined, "services");
    for (const service of card.services) {
      const name = lang === "en" ? service.name_en : service.name_vi;
      const button = el("button", name);
      button.type = "button";
      button.addEventListener("click", () => { status.textContent = t("card.service_soon", { name }); });
      list.append(button);
    }
    body.append(list);
  }
  sheet.hidden = false;
  title.tabIndex = -1;
  title.focus({ preventScroll: true });
}

function bounds(geometry) {
  const box = new maplibregl.LngLatBounds();
  const walk = (c) => (typeof c[0] === "number" ? box.extend(c) : c.forEach(walk));
  walk(geometry.coordinates);
  return box;
}

function show(card) {
  state.card = card;
  status.textContent = "";
  select(card.parcel.id);
  renderCard(card);
  history.replaceState(null, "", `#/parcel/${card.parcel.key}`);
}

async function openKey(key) {
  const shared = window.civicmapSharedCard;  // asked for by the page, before this script came
  window.civicmapSharedCard = undefined;
  const res = await (shared && shared.key === key
    ? shared.answer : fetch(`/api/parcels/${encodeURIComponent(key)}`));
  if (!res.ok) {
    status.textContent = t("search.none");
    return;
  }
  const card = await res.json();
  // Straight to the parcel, even before the map has loaded: a deep link fetches no tiles of
  // the default view, and its card shows without waiting for the map.
  map.fitBounds(bounds(card.parcel.geometry), { padding: 80, maxZoom: 19, duration: 0 });
  show(card);
}

function routeHash() {
  const match = location.hash.match(/^#\/parcel\/(\d{12})$/);
  if (match && (!state.card || state.card.parcel.key !== match[1])) openKey(match[1]);
}
window.addEventListener("hashchange", routeHash);
routeHash();

document.getElementById("share").addEventListener("click", async () => {
  const url = location.href;
  if (navigator.share) {
    try { await navigator.share({ url, title: title.textContent }); return; } catch { /* fall through */ }
  }
  await navigator.clipboard?.writeText(url);
  status.textContent = t("card.copied");
});

// Layer switcher: each checkbox shows or hides a group of style layers.
const GROUPS = {
  zoning: ["zoning-blocks", "block-codes"],
  "land-use": ["land-use"],
  parcels: ["parcels", "parcel-selected", "parcel-numbers"],
  "wards-old": ["wards-old"],
};
const layersButton = document.getElementById("layers-button");
const layersPanel = document.getElementById("layers");
layersButton.addEventListener("click", () => {
  layersPanel.hidden = !layersPanel.hidden;
  layersButton.setAttribute("aria-expanded", String(!layersPanel.hidden));
});
function applyGroup(box) {
  for (const id of GROUPS[box.value]) {
    if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none");
  }
}
const boxes = layersPanel.querySelectorAll("input[type=checkbox]");
boxes.forEach((box) => box.addEventListener("change", () => applyGroup(box)));
map.once("load", () => boxes.forEach(applyGroup));

fetch("/api/land-use-codes").then((r) => r.json()).then((codes) => {
  const legend = document.getElementById("legend");
  for (const c of codes.filter((code) => code.used)) {
    const item = el("li");
    const swatch = el("span", undefined, "swatch");
    swatch.style.background = c.fill_colour;
    item.append(swatch, el("span", `${c.code} — ${lang === "en" ? c.name_en : c.name_vi}`));
    legend.append(item);
  }
});

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
  if (location.hash === `#/parcel/${key}`) openKey(key); else location.hash = `#/parcel/${key}`;
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
    const res = await fetch(`/api/parcels?ward=${encodeURIComponent(ward)}&sheet=${sheetNo}` +
      `&parcel=${parcelNo}`);
    if (res.ok) {
      for (const p of (await res.json()).items) {
        items.push(result(t("search.parcel", { number: p.number, sheet: p.sheet,
          ward: p.ward_old }), () => goToKey(p.key)));
      }
    }
  } else if (q.length >= 2) {
    const res = await fetch(`/api/search?q=${encodeURIComponent(q)}`);
    if (res.ok) {
      const found = await res.json();
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

const plannerButton = document.getElementById("planner-button");
const account = accountScreens({ t, lang, el, status, panel: document.getElementById("account"),
  button: document.getElementById("account-button"),
  onPerson: (person) => { plannerButton.hidden = !person?.roles.includes("planner"); } });
plannerScreens({ t, el, map, status, panel: document.getElementById("planner"),
  button: plannerButton, csrf: account.csrf });

map.on("click", async (event) => {
  const { lng, lat } = event.lngLat;
  status.textContent = t("card.loading");
  try {
    const res = await fetch(`/api/parcels/at?lon=${lng}&lat=${lat}`);
    if (!res.ok) {
      select(null);
      sheet.hidden = true;
      status.textContent = t("card.none");
      return;
    }
    show(await res.json());
  } catch {
    status.textContent = t("card.none");
  }
});
