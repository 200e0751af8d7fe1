import * as maplibregl from "maplibre-gl";
import { formatNumber, translator } from "./i18n.js";

const lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "vi";
const t = translator(lang);
document.documentElement.lang = lang;
for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
for (const el of document.querySelectorAll("[data-i18n-aria]")) {
  el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

const map = new maplibregl.Map({
  container: "map",
  style: "/styles/district.json",
  center: [106.7195, 10.7335],
  zoom: 15,
  canvasContextAttributes: { preserveDrawingBuffer: true },
  attributionControl: false,
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
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

function select(id) {
  if (state.selected !== null) {
    map.setFeatureState({ source: "district", sourceLayer: "parcels", id: state.selected },
      { selected: false });
  }
  state.selected = id;
  if (id !== null) {
    map.setFeatureState({ source: "district", sourceLayer: "parcels", id }, { selected: true });
  }
}

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
    body.append(el("p", card.land_use
      .map((u) => `${u.code} ${formatNumber(u.share_pct, lang)}%`).join(" · ")));
  }
  if (card.road_frontage.length) {
    body.append(el("h3", t("card.frontage")));
    for (const r of card.road_frontage) {
      body.append(el("p", t("card.road", { street: r.street,
        width: formatNumber(r.right_of_way_m, lang) })));
    }
  }
  sheet.hidden = false;
}

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
    state.card = await res.json();
    status.textContent = "";
    select(state.card.parcel.id);
    renderCard(state.card);
  } catch {
    status.textContent = t("card.none");
  }
});
