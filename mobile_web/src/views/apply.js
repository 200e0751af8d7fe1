// #/apply/:procedure?parcel=KEY — apply for a procedure on a parcel: the parcel's facts from its
// card (read-only; for a construction permit the zoning limits the building must respect), the
// applicant (pre-filled from the account), the procedure's own form (drawn from its JSON
// Schema by form.js). The draft is made at the first change (POST with an Idempotency-Key) and
// saved as the applicant types (a debounced PATCH with If-Match: the last ETag); a draft changed
// elsewhere (another tab) is never overwritten: the applicant is offered to reload it.
import { renderForm } from "../form.js";

const STRINGS = {
  vi: {
    "apply.title": "Nộp hồ sơ: {name}",
    "apply.parcel": "Thửa đất",
    "apply.key": "Mã thửa",
    "apply.address": "Địa chỉ",
    "apply.ward": "Phường",
    "apply.ward_old": "Phường trước 01/07/2025",
    "apply.area": "Diện tích (m²)",
    "apply.limits": "Chỉ tiêu quy hoạch phải tuân thủ",
    "apply.block": "Ô phố {code} ({share}% diện tích thửa)",
    "apply.floors_max": "Tầng cao tối đa",
    "apply.height_max": "Chiều cao tối đa (m)",
    "apply.coverage_max": "Mật độ xây dựng tối đa (%)",
    "apply.far_max": "Hệ số sử dụng đất tối đa",
    "apply.not_here": "Theo quy hoạch, thủ tục này thường không áp dụng cho thửa đất này.",
    "apply.applicant": "Người nộp hồ sơ",
    "apply.full_name": "Họ và tên",
    "apply.phone": "Số điện thoại",
    "apply.id_number": "Số căn cước công dân",
    "apply.applicant_address": "Địa chỉ liên hệ",
    "apply.form": "Nội dung đề nghị",
    "apply.unsaved": "Bản nháp sẽ được lưu khi bạn bắt đầu nhập.",
    "apply.saving": "Đang lưu…",
    "apply.saved": "Đã lưu bản nháp lúc {time}",
    "apply.resumed": "Đang tiếp tục bản nháp đã lưu",
    "apply.fix": "Chưa lưu: hãy sửa các trường được đánh dấu",
    "apply.name_first": "Nhập họ và tên để lưu bản nháp",
    "apply.offline": "Đang ngoại tuyến: bản nháp sẽ được lưu khi có mạng",
    "apply.failed": "Không lưu được. Vui lòng thử lại.",
    "apply.changed": "Hồ sơ này vừa được thay đổi ở nơi khác (có thể ở một thẻ khác). Tải lại để xem bản mới nhất trước khi sửa tiếp.",
    "apply.reload": "Tải lại hồ sơ",
    "apply.reloaded": "Đã tải lại bản mới nhất",
    "apply.not_draft": "Hồ sơ này đã được nộp, không sửa được nữa.",
    "apply.to_dossier": "Xem và nộp hồ sơ",
    "apply.incomplete": "Hãy hoàn thành các trường được đánh dấu trước khi nộp",
    "apply.sign_in": "Đăng nhập để nộp hồ sơ",
    "apply.to_sign_in": "Đăng nhập",
    "apply.no_parcel": "Hãy chọn thửa đất trên bản đồ trước",
    "apply.parcel_none": "Không tìm thấy thửa đất {key}",
    "apply.procedure_none": "Không có thủ tục này",
    "apply.unavailable": "Không tải được thông tin. Vui lòng thử lại.",
    "apply.to_map": "Về bản đồ",
  },
  en: {
    "apply.title": "Apply: {name}",
    "apply.parcel": "Parcel",
    "apply.key": "Parcel key",
    "apply.address": "Address",
    "apply.ward": "Ward",
    "apply.ward_old": "Ward before 1 July 2025",
    "apply.area": "Area (m²)",
    "apply.limits": "Zoning limits to respect",
    "apply.block": "Block {code} ({share}% of the parcel)",
    "apply.floors_max": "Floors at most",
    "apply.height_max": "Height at most (m)",
    "apply.coverage_max": "Coverage at most (%)",
    "apply.far_max": "Floor-area ratio at most",
    "apply.not_here": "By the zoning plan, this procedure does not usually apply to this parcel.",
    "apply.applicant": "Applicant",
    "apply.full_name": "Full name",
    "apply.phone": "Phone number",
    "apply.id_number": "Citizen ID number",
    "apply.applicant_address": "Contact address",
    "apply.form": "The application",
    "apply.unsaved": "The draft is saved once you start typing.",
    "apply.saving": "Saving…",
    "apply.saved": "Draft saved at {time}",
    "apply.resumed": "Going on with your saved draft",
    "apply.fix": "Not saved: please correct the marked fields",
    "apply.name_first": "Enter your full name to save the draft",
    "apply.offline": "Offline: the draft will be saved when the network is back",
    "apply.failed": "The draft could not be saved. Please try again.",
    "apply.changed": "This dossier was just changed elsewhere (perhaps in another tab). Reload it to see the latest before going on.",
    "apply.reload": "Reload the dossier",
    "apply.reloaded": "Reloaded the latest version",
    "apply.not_draft": "This dossier has been submitted and can no longer be changed.",
    "apply.to_dossier": "Review and submit",
    "apply.incomplete": "Please complete the marked fields before submitting",
    "apply.sign_in": "Sign in to apply",
    "apply.to_sign_in": "Sign in",
    "apply.no_parcel": "Choose a parcel on the map first",
    "apply.parcel_none": "No parcel {key}",
    "apply.procedure_none": "No such procedure",
    "apply.unavailable": "The information could not be loaded. Please try again.",
    "apply.to_map": "Back to the map",
  },
};
const SAVE_AFTER_MS = 800; // typing pauses this long before the draft is saved

// The applicant as the dossier API takes it (permits/schemas.py: Applicant), in form.js's terms.
function applicantSchema(t) {
  return { type: "object", required: ["full_name"], properties: {
    full_name: { type: "string", title: t("apply.full_name"), minLength: 1, maxLength: 100 },
    phone: { type: "string", title: t("apply.phone"), pattern: "^\\+?[0-9 .]{9,15}$" },
    id_number: { type: "string", title: t("apply.id_number"), pattern: "^[0-9]{9,12}$" },
    address: { type: "string", title: t("apply.applicant_address"), maxLength: 300 },
  } };
}

function freshKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The pre-check (POST /api/precheck: the form's answers against the parcel's zoning): each
// finding beside its field. Where the server has no pre-check yet (404, 405), nothing shows.
// Returns the findings naming no field of the form.
export async function showPrecheck(ctx, form, parcelKey, answers) {
  const res = await ctx.api.request("POST", "/api/precheck",
    { body: { parcel_key: parcelKey, answers } });
  if (res.status === 200 && Array.isArray(res.data?.findings)) {
    return form.setFindings(res.data.findings);
  }
  form.setFindings([]);
  return [];
}

export function mount(ctx, { procedure: procedureId, query = {} }) {
  const { el, lang, formatNumber } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view, heading, message } = ctx.panel("apply");
  const parcelKey = query.parcel ?? "";
  const draft = { id: null, etag: null, key: null, keyBody: null };
  const ui = {}; // the rendered forms and messages, once the procedure and card are in
  let gone = false;
  let timer = null;
  let running = null;
  let again = false;
  let conflict = false;
  let onOnline = null;

  function button(text, action, cls) {
    const b = el("button", text, cls);
    b.type = "button";
    b.addEventListener("click", action);
    return b;
  }

  function fieldset(legend, ...children) {
    const set = el("fieldset");
    set.append(el("legend", legend), ...children);
    return set;
  }

  function readonly(id, label, value) {
    const wrap = el("p", undefined, "field");
    const l = el("label", label);
    l.htmlFor = `apply-${id}`;
    const input = el("input");
    Object.assign(input, { id: `apply-${id}`, type: "text", readOnly: true,
      value: value ?? "—" });
    wrap.append(l, input);
    return wrap;
  }

  function limits(card) {
    const shown = (v) => (v === null || v === undefined ? "—" : formatNumber(v, lang));
    return card.zoning.map((z) => {
      const facts = el("dl");
      for (const [key, value] of [["apply.floors_max", z.floors_max],
        ["apply.height_max", z.height_max_m], ["apply.coverage_max", z.coverage_max_pct],
        ["apply.far_max", z.far_max]]) facts.append(el("dt", t(key)), el("dd", shown(value)));
      const block = el("div", undefined, "zoning-limits");
      block.append(el("p", t("apply.block", { code: z.block_code,
        share: formatNumber(z.share_pct, lang) })), facts);
      return block;
    });
  }

  function render(procedure, card, person, resumed) {
    const box = el("div", undefined, "account-form apply-form");
    const p = card.parcel;
    const name = lang === "en" ? procedure.name_en : procedure.name_vi;
    box.append(heading(t("apply.title", { name })), fieldset(t("apply.parcel"),
      readonly("parcel-key", t("apply.key"), p.key),
      readonly("parcel-address", t("apply.address"), p.address),
      readonly("parcel-ward", t("apply.ward"), p.ward.current?.name ?? p.ward.old.name),
      readonly("parcel-ward-old", t("apply.ward_old"), p.ward.old.name),
      readonly("parcel-area", t("apply.area"), formatNumber(p.area_m2, lang))));
    if (!card.services.some((s) => s.id === procedure.id)) {
      box.append(el("p", t("apply.not_here"), "muted"));
    }
    if (procedure.field === "construction" && card.zoning.length) {
      box.append(fieldset(t("apply.limits"), ...limits(card)));
    }
    const phone = person?.phone?.startsWith("+84") ? `0${person.phone.slice(3)}` : person?.phone;
    const applicant = renderForm(ctx, applicantSchema(t), resumed?.applicant ??
      { full_name: person?.display_name, phone }, { onChange: schedule, idPrefix: "applicant" });
    const answers = renderForm(ctx, procedure.form_schema, resumed?.answers ?? {},
      { onChange: schedule, idPrefix: "answer" });
    const state = el("p", t(resumed ? "apply.resumed" : "apply.unsaved"), "muted save-state");
    state.setAttribute("role", "status");
    const note = el("p", "", "form-message");
    note.setAttribute("role", "alert");
    const reload = button(t("apply.reload"), () => reloadDraft());
    reload.hidden = true;
    const toDossier = button(t("apply.to_dossier"), () => review());
    toDossier.hidden = !resumed;
    box.append(fieldset(t("apply.applicant"), applicant.node),
      fieldset(t("apply.form"), answers.node), state, note, reload, toDossier);
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
    Object.assign(ui, { procedure, applicant, answers, state, note, reload, toDossier });
  }

  function schedule() {
    if (conflict) return;
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_AFTER_MS);
  }

  // One save at a time; a change made meanwhile is saved right after.
  function save() {
    clearTimeout(timer);
    timer = null;
    if (running) { again = true; return running; }
    running = saveOnce().finally(() => {
      running = null;
      if (again && !conflict) { again = false; save(); }
    });
    return running;
  }

  async function saveOnce() {
    const problems = [...ui.applicant.validate(), ...ui.answers.validate()];
    if (problems.length) { ui.state.textContent = t("apply.fix"); return false; }
    const applicant = ui.applicant.answers();
    const answers = ui.answers.answers();
    if (!applicant.full_name) { ui.state.textContent = t("apply.name_first"); return false; }
    ui.state.textContent = t("apply.saving");
    let res;
    if (draft.id === null) {
      const body = { procedure_id: ui.procedure.id, parcel_key: parcelKey, applicant, answers };
      // A retry of the same draft keeps its key (the server answers it with the first draft).
      const same = JSON.stringify(body);
      if (draft.keyBody !== same) Object.assign(draft, { key: freshKey(), keyBody: same });
      res = await ctx.api.submit("POST", "/api/dossiers", body, { key: draft.key });
    } else {
      res = await ctx.api.request("PATCH", `/api/dossiers/${draft.id}`,
        { body: { applicant, answers }, ifMatch: draft.etag });
    }
    if (res.ok) {
      Object.assign(draft, { id: res.data.id, etag: res.etag });
      ui.applicant.setErrors([]);
      ui.answers.setErrors([]);
      ui.note.textContent = "";
      ui.state.textContent = t("apply.saved", { time: new Date().toLocaleTimeString(
        lang === "en" ? "en-GB" : "vi-VN", { hour: "2-digit", minute: "2-digit" }) });
      ui.toDossier.hidden = false;
      if (!gone) showPrecheck(ctx, ui.answers, parcelKey, answers);
      return true;
    }
    refused(res);
    return false;
  }

  function refused(res) {
    ui.state.textContent = "";
    if (res.status === 412) {
      conflict = true;
      ui.note.textContent = t("apply.changed");
      ui.reload.hidden = false;
    } else if (res.status === 422) {
      const errors = Array.isArray(res.data?.errors) ? res.data.errors
        : [{ field: res.error.field, message_vi: "Không hợp lệ", message_en: "Not valid" }];
      ui.applicant.setErrors(ui.answers.setErrors(errors));
      ui.state.textContent = t("apply.fix");
    } else if (res.status === 409) {
      ui.note.textContent = t("apply.not_draft");
    } else if (res.error?.offline) {
      ui.state.textContent = t("apply.offline");
      if (!onOnline) {
        onOnline = () => { onOnline = null; schedule(); };
        window.addEventListener("online", onOnline, { once: true });
      }
    } else {
      ui.note.textContent = res.error?.detail ?? t("apply.failed");
    }
  }

  async function reloadDraft() {
    const res = await ctx.api.get(`/api/dossiers/${draft.id}`, { cache: "no-store" });
    if (gone) return;
    if (!res.ok) { ui.note.textContent = t("apply.failed"); return; }
    draft.etag = res.etag;
    ui.applicant.setValues(res.data.applicant);
    ui.answers.setValues(res.data.answers);
    conflict = false;
    again = false;
    ui.reload.hidden = true;
    ui.note.textContent = "";
    ui.state.textContent = t("apply.reloaded");
  }

  async function review() {
    if (timer !== null || running) await save();
    if (conflict || draft.id === null) return;
    const missing = [...ui.applicant.validate({ complete: true }),
      ...ui.answers.validate({ complete: true })];
    if (missing.length) {
      ui.note.textContent = t("apply.incomplete");
      return;
    }
    ctx.router.go(`#/dossiers/${draft.id}`);
  }

  // The draft of this procedure and parcel the applicant already has, if any, with its ETag.
  async function mine(list) {
    const found = list.find((d) => d.status === "draft" && d.procedure_id === procedureId &&
      d.parcel_key === parcelKey);
    if (!found) return null;
    const res = await ctx.api.get(`/api/dossiers/${found.id}`, { cache: "no-store" });
    if (!res.ok) return null;
    Object.assign(draft, { id: res.data.id, etag: res.etag });
    return res.data;
  }

  (async () => {
    if (!parcelKey) {
      const link = el("a", t("apply.to_map"));
      link.href = "#";
      message(t("apply.no_parcel"), [link]);
      return;
    }
    const [procedure, card, dossiers] = await Promise.all([
      ctx.api.get(`/api/procedures/${encodeURIComponent(procedureId)}`),
      ctx.api.get(`/api/parcels/${encodeURIComponent(parcelKey)}`),
      ctx.api.get("/api/dossiers?limit=200", { cache: "no-store" })]);
    if (gone) return;
    if (dossiers.status === 401) {
      message(t("apply.sign_in"), [button(t("apply.to_sign_in"),
        () => ctx.router.go("#/account"))]);
      return;
    }
    if (!procedure.ok) {
      message(t(procedure.status === 404 ? "apply.procedure_none" : "apply.unavailable"));
      return;
    }
    if (!card.ok) {
      message(card.status === 404 ? t("apply.parcel_none", { key: parcelKey })
        : t("apply.unavailable"));
      return;
    }
    const person = ctx.session.person ?? await ctx.session.load();
    const resumed = dossiers.ok ? await mine(dossiers.data) : null;
    if (!gone) render(procedure.data, card.data, person, resumed);
  })();

  return () => {
    gone = true;
    if (timer !== null) save(); // what was typed last is not lost by closing the panel
    if (onOnline) window.removeEventListener("online", onOnline);
    panel.remove();
  };
}
