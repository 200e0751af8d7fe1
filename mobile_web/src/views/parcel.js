// #/parcel/:key — a parcel's card in the bottom sheet, the parcel highlighted on the map in
// the part the card leaves visible.
const STRINGS = {
  vi: {
    "card.parcel": "Thửa {number}, tờ bản đồ {sheet}",
    "card.key": "Mã thửa",
    "card.area": "Diện tích",
    "card.ward": "Phường",
    "card.ward_old": "trước 01/07/2025: {name}",
    "card.address": "Địa chỉ",
    "card.zoning": "Quy hoạch phân khu 1/2000",
    "card.block": "Ô phố {code}: {function} ({share}%)",
    "card.indicators": "Tầng cao {min}–{max} · mật độ {coverage}% · hệ số SDĐ {far}",
    "card.land_use": "Quy hoạch sử dụng đất",
    "card.frontage": "Lộ giới",
    "card.road": "{street}: lộ giới {width} m",
    "card.share": "Chia sẻ thửa đất",
    "card.plans": "Quyết định phê duyệt",
    "card.plan": "{decision} ngày {date} — {name}",
    "card.plan_undated": "{decision} — {name}",
    "card.services": "Dịch vụ có thể thực hiện",
    "card.copied": "Đã sao chép đường dẫn",
    "card.report": "Phản ánh xây dựng không phép tại thửa này",
    "build.title": "Có thể xây dựng gì ở đây",
    "build.spans": "Thửa đất nằm trên nhiều ô phố: {blocks}. " +
      "Mỗi chỉ tiêu lấy theo ô phố chặt chẽ nhất.",
    "build.not_counted": "{code} {share}% (không tính)",
    "build.governing": "Ô phố chính",
    "build.floors_max": "Tầng cao tối đa",
    "build.floors_min": "Tầng cao tối thiểu",
    "build.floors": "{value} tầng",
    "build.height_max_m": "Chiều cao tối đa",
    "build.coverage_max_pct": "Mật độ xây dựng tối đa",
    "build.far_max": "Hệ số sử dụng đất tối đa",
    "build.from": "{value} · ô phố {code}",
    "build.none": "Quy hoạch không quy định",
    "build.parcel_area": "Diện tích thửa đất",
    "build.strip": "Trong lộ giới {street} ({width} m)",
    "build.strip_area": "−{area} m² · sâu {depth} m",
    "build.strip_whole": "−{area} m² (cả thửa)",
    "build.no_strip": "Không có phần đất nằm trong lộ giới quy hoạch.",
    "build.remaining": "Diện tích còn lại",
    "build.footprint": "Diện tích xây dựng tối đa",
    "build.floor_area": "Tổng diện tích sàn tối đa",
    "build.basis": "Diện tích xây dựng và tổng diện tích sàn tối đa tính trên diện tích " +
      "còn lại ({area} m²), sau khi trừ phần đất nằm trong lộ giới.",
  },
  en: {
    "card.parcel": "Parcel {number}, map sheet {sheet}",
    "card.key": "Parcel key",
    "card.area": "Area",
    "card.ward": "Ward",
    "card.ward_old": "before 1 July 2025: {name}",
    "card.address": "Address",
    "card.zoning": "1/2000 zoning plan",
    "card.block": "Block {code}: {function} ({share}%)",
    "card.indicators": "Floors {min}–{max} · coverage {coverage}% · FAR {far}",
    "card.land_use": "Land-use plan",
    "card.frontage": "Right-of-way",
    "card.road": "{street}: right-of-way {width} m",
    "card.share": "Share this parcel",
    "card.plans": "Approving decisions",
    "card.plan": "{decision} of {date} — {name}",
    "card.plan_undated": "{decision} — {name}",
    "card.services": "What you can start here",
    "card.copied": "Link copied",
    "card.report": "Report construction without a permit here",
    "build.title": "What can I build here",
    "build.spans": "The parcel lies on several zoning blocks: {blocks}. " +
      "Each limit is the strictest of them.",
    "build.not_counted": "{code} {share}% (not counted)",
    "build.governing": "Main block",
    "build.floors_max": "Most floors",
    "build.floors_min": "Fewest floors",
    "build.floors": "{value}",
    "build.height_max_m": "Greatest height",
    "build.coverage_max_pct": "Greatest building coverage",
    "build.far_max": "Greatest floor-area ratio",
    "build.from": "{value} · block {code}",
    "build.none": "Not set by the zoning plan",
    "build.parcel_area": "Parcel area",
    "build.strip": "In the right-of-way of {street} ({width} m)",
    "build.strip_area": "−{area} m² · {depth} m deep",
    "build.strip_whole": "−{area} m² (the whole parcel)",
    "build.no_strip": "No part of the parcel lies in a planned right-of-way.",
    "build.remaining": "Land that remains",
    "build.footprint": "Largest footprint",
    "build.floor_area": "Largest total floor area",
    "build.basis": "The largest footprint and total floor area are computed on the land " +
      "that remains ({area} m²), after the part in the right-of-way.",
  },
};

function box(geometry) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] !== "number") { c.forEach(walk); return; }
    w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
  };
  walk(geometry.coordinates);
  return [w, s, e, n];
}

export function mount(ctx, { key }, state = {}) {
  const { map, el, lang, status, formatNumber, formatDate } = ctx;
  const t = ctx.translate(STRINGS);
  const sheet = document.getElementById("sheet");
  const title = document.getElementById("sheet-title");
  const body = document.getElementById("sheet-body");
  const share = document.getElementById("share");
  const close = sheet.querySelector(".sheet-close");
  share.textContent = t("card.share");
  let gone = false;

  function select(id) {
    // Before the style has its source (a deep link opens the card sooner), the highlight waits
    // for the map's "load".
    const ready = Boolean(map.getSource("district"));
    const previous = ctx.state.selected;
    if (previous !== null && ready) {
      map.setFeatureState({ source: "district", sourceLayer: "parcels", id: previous },
        { selected: false });
    }
    ctx.state.selected = id;
    if (id !== null && ready) {
      map.setFeatureState({ source: "district", sourceLayer: "parcels", id }, { selected: true });
    }
  }
  const onLoad = () => { if (!gone) select(ctx.state.selected); };
  map.once("load", onLoad);

  // The parcel in the part of the map the card leaves visible (above it on a phone), with its
  // neighbours and street around it: the card's height is the camera's bottom padding, and the
  // parcel's box is widened by its own size on each side.
  function frame(geometry, { maxZoom, duration }) {
    const [w, s, e, n] = box(geometry);
    const dx = Math.max(e - w, 0.0002) * 0.4;
    const dy = Math.max(n - s, 0.0002) * 0.4;
    const container = map.getContainer();
    const covered = Math.max(0, container.getBoundingClientRect().bottom -
      sheet.getBoundingClientRect().top);
    const bottom = Math.min(covered, container.clientHeight - 120) + 8;
    const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
    map.fitBounds([[w - dx, s - dy], [e + dx, n + dy]], {
      padding: { top: 56, bottom, left: 8, right: 60 }, maxZoom, duration: still ? 0 : duration });
  }

  // "What can I build here": each limit with the block it comes from, the strip the planned
  // right-of-way takes and the land that remains, on which the largest areas are computed.
  function buildable(b) {
    const area = (value) => `${formatNumber(value, lang)} m²`;
    const limits = {
      floors_max: (v) => t("build.floors", { value: v }),
      floors_min: (v) => t("build.floors", { value: v }),
      height_max_m: (v) => `${formatNumber(v, lang)} m`,
      coverage_max_pct: (v) => `${formatNumber(v, lang)}%`,
      far_max: (v) => formatNumber(v, lang, 2),
    };
    const parts = [el("h3", t("build.title"))];
    if (b.spans_blocks) {
      parts.push(el("p", t("build.spans", { blocks: b.blocks.map((x) => {
        const share = formatNumber(x.share_pct, lang);
        return x.counted ? `${x.block_code} ${share}%`
          : t("build.not_counted", { code: x.block_code, share });
      }).join(", ") }), "muted"));
    }
    const facts = el("dl", undefined, "buildable");
    const fact = (label, value) => { facts.append(el("dt", label), el("dd", value)); };
    if (b.governing_block) fact(t("build.governing"), b.governing_block);
    for (const [name, show] of Object.entries(limits)) {
      const limit = b[name];
      fact(t(`build.${name}`), limit
        ? t("build.from", { value: show(limit.value), code: limit.block_code })
        : t("build.none"));
    }
    fact(t("build.parcel_area"), area(b.parcel_area_m2));
    for (const w of b.widening) {
      const taken = formatNumber(w.area_m2, lang);
      fact(t("build.strip", { street: w.street, width: formatNumber(w.right_of_way_m, lang) }),
        w.depth_m === null ? t("build.strip_whole", { area: taken })
          : t("build.strip_area", { area: taken, depth: formatNumber(w.depth_m, lang, 2) }));
    }
    fact(t("build.remaining"), area(b.buildable_area_m2));
    fact(t("build.footprint"), b.footprint_max_m2 === null ? t("build.none")
      : area(b.footprint_max_m2));
    fact(t("build.floor_area"), b.floor_area_max_m2 === null ? t("build.none")
      : area(b.floor_area_max_m2));
    parts.push(facts);
    if (!b.widening.length) parts.push(el("p", t("build.no_strip"), "muted"));
    parts.push(el("p", t("build.basis", { area: formatNumber(b.buildable_area_m2, lang) }),
      "muted"));
    return parts;
  }

  function render(card) {
    const p = card.parcel;
    title.textContent = t("card.parcel", { number: p.number, sheet: p.sheet });
    body.replaceChildren();
    const facts = el("dl");
    const fact = (label, value) => { facts.append(el("dt", label), el("dd", value)); };
    fact(t("card.key"), p.key);
    fact(t("card.area"), `${formatNumber(p.area_m2, lang)} m²`);
    fact(t("card.ward"), p.ward.current ? p.ward.current.name : p.ward.old.name);
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
    if (card.buildable) body.append(...buildable(card.buildable));
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
        body.append(el("p", plan.decision_date ? t("card.plan", { decision: plan.decision_no,
          date: formatDate(plan.decision_date), name: plan.name })
          : t("card.plan_undated", { decision: plan.decision_no, name: plan.name }), "muted"));
      }
    }
    if (card.services.length) {
      body.append(el("h3", t("card.services")));
      const list = el("div", undefined, "services");
      for (const service of card.services) {
        const name = lang === "en" ? service.name_en : service.name_vi;
        const link = el("a", name);
        link.href = `#/procedures/${encodeURIComponent(service.id)}?parcel=${encodeURIComponent(p.key)}`;
        list.append(link);
      }
      body.append(list);
    }
    // A report on this parcel (construction without a permit is about a parcel): at the
    // place tapped when it lies on the parcel, else the parcel's middle.
    const [w, s, e, n] = box(p.geometry);
    const tapped = ctx.state.clicked;
    const [x, y] = tapped && tapped[0] >= w && tapped[0] <= e && tapped[1] >= s && tapped[1] <= n
      ? tapped : [(w + e) / 2, (s + n) / 2];
    const report = el("a", t("card.report"), "card-report");
    report.href = `#/feedback/new?lon=${x.toFixed(6)}&lat=${y.toFixed(6)}` +
      `&parcel=${encodeURIComponent(p.key)}&category=construction-without-permit`;
    body.append(report);
    sheet.hidden = false;
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }

  function show(card, camera) {
    if (gone) return;
    ctx.state.card = card;
    status.textContent = "";
    select(card.parcel.id);
    render(card);
    frame(card.parcel.geometry, camera);
  }

  async function open() {
    const shared = window.civicmapSharedCard; // asked for by the page, before the app came
    window.civicmapSharedCard = undefined;
    let result;
    if (shared && shared.key === key) {
      try {
        const res = await shared.answer;
        result = { ok: res.ok, data: res.ok ? await res.json() : null };
      } catch {
        result = { ok: false };
      }
    } else {
      result = await ctx.api.get(`/api/parcels/${encodeURIComponent(key)}`);
    }
    if (gone) return;
    if (!result.ok) {
      status.textContent = t("search.none");
      return;
    }
    // Straight to the parcel, even before the map has loaded: a deep link fetches no tiles of
    // the default view, and its card shows without waiting for the map.
    show(result.data, { maxZoom: 18, duration: 0 });
  }

  if (state.card && state.card.parcel.key === key) {
    show(state.card, { maxZoom: Math.max(map.getZoom(), 17), duration: 300 });
  } else {
    open();
  }

  const onClose = () => ctx.router.close();
  const onKey = (event) => { if (event.key === "Escape" && !sheet.hidden) ctx.router.close(); };
  const onShare = async () => {
    const url = location.href;
    if (navigator.share) {
      try { await navigator.share({ url, title: title.textContent }); return; } catch { /* fall through */ }
    }
    await navigator.clipboard?.writeText(url);
    status.textContent = t("card.copied");
  };
  close.addEventListener("click", onClose);
  document.addEventListener("keydown", onKey);
  share.addEventListener("click", onShare);

  return () => {
    gone = true;
    map.off("load", onLoad);
    close.removeEventListener("click", onClose);
    document.removeEventListener("keydown", onKey);
    share.removeEventListener("click", onShare);
    sheet.hidden = true;
    select(null);
    ctx.state.card = null;
  };
}
