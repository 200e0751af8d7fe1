// #/procedures and #/procedures/:code — the procedure catalogue: search by name (accents
// optional) and by field; one procedure with its time, fee, handling body, documents and what
// is not verified yet. The parcel card's services open here (?parcel=KEY: with a button to apply
// for this procedure on that parcel).
const STRINGS = {
  vi: {
    "procedures.title": "Thủ tục hành chính",
    "procedures.search": "Tìm thủ tục",
    "procedures.field": "Lĩnh vực",
    "procedures.field.all": "Tất cả",
    "procedures.field.construction": "Xây dựng",
    "procedures.field.household_business": "Hộ kinh doanh",
    "procedures.field.labour": "Lao động",
    "procedures.none": "Không có thủ tục nào khớp",
    "procedures.unavailable": "Không tải được danh mục thủ tục",
    "procedures.online.full": "Trực tuyến toàn trình",
    "procedures.online.partial": "Trực tuyến một phần",
    "procedures.days.working": "{days} ngày làm việc",
    "procedures.days.calendar": "{days} ngày",
    "procedures.time": "Thời hạn giải quyết",
    "procedures.fee": "Lệ phí",
    "procedures.no_fee": "Không thu",
    "procedures.handled_by": "Cơ quan giải quyết",
    "procedures.level.ward": "UBND phường",
    "procedures.level.city": "Sở, ngành Thành phố",
    "procedures.documents": "Thành phần hồ sơ",
    "procedures.optional": "nếu có",
    "procedures.unverified": "Chưa được kiểm chứng với văn bản pháp luật",
    "procedures.back": "Danh mục thủ tục",
    "procedures.apply": "Nộp hồ sơ cho thửa này",
  },
  en: {
    "procedures.title": "Public services",
    "procedures.search": "Find a procedure",
    "procedures.field": "Field",
    "procedures.field.all": "All",
    "procedures.field.construction": "Construction",
    "procedures.field.household_business": "Household business",
    "procedures.field.labour": "Labour",
    "procedures.none": "No procedure matches",
    "procedures.unavailable": "The catalogue could not be loaded",
    "procedures.online.full": "Fully online",
    "procedures.online.partial": "Partly online",
    "procedures.days.working": "{days} working days",
    "procedures.days.calendar": "{days} days",
    "procedures.time": "Statutory time",
    "procedures.fee": "Fee",
    "procedures.no_fee": "None",
    "procedures.handled_by": "Handled by",
    "procedures.level.ward": "Ward People's Committee",
    "procedures.level.city": "A city department",
    "procedures.documents": "Documents",
    "procedures.optional": "where needed",
    "procedures.unverified": "Not yet verified against the law",
    "procedures.back": "All procedures",
    "procedures.apply": "Apply for this parcel",
  },
};

export function mount(ctx, params) {
  const { el, lang, formatNumber } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view } = ctx.panel("procedures");
  const name = (p) => (lang === "en" ? p.name_en : p.name_vi);
  const days = (p) => t(`procedures.days.${p.day_kind}`, { days: p.statutory_days });
  let gone = false;

  function heading(text) {
    const h = el("h2", text);
    h.id = "procedures-title";
    h.tabIndex = -1;
    return h;
  }

  async function list() {
    const box = el("div", undefined, "account-form");
    const search = el("input");
    Object.assign(search, { type: "text", id: "procedures-q", autocomplete: "off" });
    const searchLabel = el("label", t("procedures.search"));
    searchLabel.htmlFor = search.id;
    const field = el("select");
    field.id = "procedures-field";
    for (const value of ["", "construction", "household_business", "labour"]) {
      const option = el("option", t(value ? `procedures.field.${value}` : "procedures.field.all"));
      option.value = value;
      field.append(option);
    }
    const fieldLabel = el("label", t("procedures.field"));
    fieldLabel.htmlFor = field.id;
    const results = el("ul", undefined, "procedure-list");
    results.setAttribute("aria-live", "polite");
    const row = (label, control) => { const p = el("p", undefined, "field"); p.append(label, control); return p; };
    box.append(heading(t("procedures.title")), row(searchLabel, search), row(fieldLabel, field),
      results);
    view.replaceChildren(box);
    let asked = 0;
    const refresh = async () => {
      const mine = ++asked;
      const query = new URLSearchParams();
      if (search.value.trim()) query.set("q", search.value.trim());
      if (field.value) query.set("field", field.value);
      const res = await ctx.api.get(`/api/procedures?${query}`);
      if (gone || mine !== asked) return;
      if (!res.ok) { results.replaceChildren(el("li", t("procedures.unavailable"))); return; }
      if (!res.data.length) { results.replaceChildren(el("li", t("procedures.none"), "muted")); return; }
      results.replaceChildren(...res.data.map((p) => {
        const item = el("li");
        const link = el("a", name(p));
        link.href = `#/procedures/${p.id}`;
        item.append(link, el("p", `${t(`procedures.online.${p.online_level}`)} · ${days(p)}`, "muted"));
        return item;
      }));
    };
    search.addEventListener("input", refresh);
    field.addEventListener("change", refresh);
    await refresh();
    box.querySelector("h2").focus({ preventScroll: true });
  }

  async function one(code, parcel) {
    const res = await ctx.api.get(`/api/procedures/${encodeURIComponent(code)}`);
    if (gone) return;
    const box = el("div", undefined, "account-form");
    const back = el("a", t("procedures.back"));
    back.href = "#/procedures";
    if (!res.ok) {
      box.append(heading(t(res.status === 404 ? "procedures.none" : "procedures.unavailable")), back);
      view.replaceChildren(box);
      return;
    }
    const p = res.data;
    const unverified = new Set(p.unverified);
    const mark = (key, text) => (unverified.has(key) ? `${text} *` : text);
    const facts = el("dl");
    const fact = (label, value) => facts.append(el("dt", label), el("dd", value));
    fact(t("procedures.field"), t(`procedures.field.${p.field}`));
    fact(t("procedures.time"), mark("statutory_days", `${days(p)} · ${t(`procedures.online.${p.online_level}`)}`));
    fact(t("procedures.fee"), mark("fee_vnd", p.fee_vnd == null ? t("procedures.no_fee")
      : `${formatNumber(p.fee_vnd)} đ${p.fee_basis ? ` (${p.fee_basis})` : ""}`));
    fact(t("procedures.handled_by"), mark("level", t(`procedures.level.${p.level}`)));
    const documents = el("ol", undefined, "documents");
    for (const d of p.documents) {
      const item = el("li", `${lang === "en" ? d.en : d.vi}${d.mandatory ? "" : ` (${t("procedures.optional")})`}${d.verified ? "" : " *"}`);
      documents.append(item);
    }
    box.append(heading(name(p)), facts);
    if (parcel) {
      const apply = el("a", t("procedures.apply"), "button-link");
      apply.href = `#/apply/${encodeURIComponent(p.id)}?parcel=${encodeURIComponent(parcel)}`;
      box.append(apply);
    }
    box.append(el("h3", t("procedures.documents")), documents);
    if (unverified.size || p.documents.some((d) => !d.verified)) {
      box.append(el("p", `* ${t("procedures.unverified")}`, "muted"));
    }
    box.append(back);
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
  }

  if (params.code) one(params.code, params.query?.parcel);
  else list();

  return () => {
    gone = true;
    panel.remove();
  };
}
