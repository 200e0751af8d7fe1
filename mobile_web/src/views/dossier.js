// #/dossiers/:id — one of my dossiers: its code, procedure, parcel, status and dates; a draft
// can be submitted from here (one Idempotency-Key per submission, If-Match with the ETag read;
// offline, the submission waits in the queue and goes when the network is back).
import { renderDocuments } from "./documents.js";

const STRINGS = {
  vi: {
    "dossier.title": "Hồ sơ {code}",
    "dossier.draft": "Hồ sơ (bản nháp)",
    "dossier.procedure": "Thủ tục",
    "dossier.parcel": "Thửa đất",
    "dossier.status": "Trạng thái",
    "dossier.created": "Tạo lúc",
    "dossier.submitted": "Nộp lúc",
    "dossier.submit": "Nộp hồ sơ",
    "dossier.queued": "Đang ngoại tuyến: hồ sơ sẽ được nộp khi có mạng",
    "dossier.sign_in": "Đăng nhập để xem hồ sơ của bạn",
    "dossier.to_sign_in": "Đăng nhập",
    "dossier.none": "Không tìm thấy hồ sơ này",
    "dossier.failed": "Không thực hiện được. Vui lòng thử lại.",
    "dossier.status.draft": "Bản nháp",
    "dossier.status.awaiting_receipt": "Chờ tiếp nhận",
    "dossier.status.received": "Đã tiếp nhận",
    "dossier.status.in_processing": "Đang xử lý",
    "dossier.status.supplement_requested": "Yêu cầu bổ sung",
    "dossier.status.refused": "Từ chối",
    "dossier.status.overdue": "Quá hạn",
    "dossier.status.result_ready": "Có kết quả",
    "dossier.status.result_returned": "Đã trả kết quả",
    "dossier.status.withdrawn": "Đã rút",
    "dossier.status.cancelled": "Đã huỷ",
  },
  en: {
    "dossier.title": "Dossier {code}",
    "dossier.draft": "Dossier (draft)",
    "dossier.procedure": "Procedure",
    "dossier.parcel": "Parcel",
    "dossier.status": "Status",
    "dossier.created": "Created",
    "dossier.submitted": "Submitted",
    "dossier.submit": "Submit the dossier",
    "dossier.queued": "Offline: the dossier will be submitted when the network is back",
    "dossier.sign_in": "Sign in to see your dossiers",
    "dossier.to_sign_in": "Sign in",
    "dossier.none": "No such dossier",
    "dossier.failed": "That did not work. Please try again.",
    "dossier.status.draft": "Draft",
    "dossier.status.awaiting_receipt": "Awaiting receipt",
    "dossier.status.received": "Received",
    "dossier.status.in_processing": "In processing",
    "dossier.status.supplement_requested": "Supplement requested",
    "dossier.status.refused": "Refused",
    "dossier.status.overdue": "Overdue",
    "dossier.status.result_ready": "Result ready",
    "dossier.status.result_returned": "Result returned",
    "dossier.status.withdrawn": "Withdrawn",
    "dossier.status.cancelled": "Cancelled",
  },
};

export function mount(ctx, { id }) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view } = ctx.panel("dossier");
  const path = `/api/dossiers/${encodeURIComponent(id)}`;
  const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "vi-VN") : "");
  let gone = false;

  function heading(text) {
    const h = el("h2", text);
    h.id = "dossier-title";
    h.tabIndex = -1;
    return h;
  }

  function message(text, after = []) {
    const box = el("div", undefined, "account-form");
    box.append(heading(text), ...after);
    view.replaceChildren(box);
  }

  function render(d) {
    const box = el("div", undefined, "account-form");
    const facts = el("dl");
    const fact = (label, value) => { facts.append(el("dt", label), el("dd", value)); };
    fact(t("dossier.procedure"), d.procedure_id);
    const parcel = el("a", d.parcel_key);
    parcel.href = `#/parcel/${d.parcel_key}`;
    facts.append(el("dt", t("dossier.parcel")), el("dd"));
    facts.lastChild.append(parcel);
    fact(t("dossier.status"), t(`dossier.status.${d.status}`));
    fact(t("dossier.created"), when(d.created_at));
    if (d.submitted_at) fact(t("dossier.submitted"), when(d.submitted_at));
    const note = el("p", "", "form-message");
    note.setAttribute("role", "alert");
    const documents = el("section");
    box.append(heading(d.code ? t("dossier.title", { code: d.code }) : t("dossier.draft")), facts,
      documents, note);
    ctx.api.get(`/api/procedures/${encodeURIComponent(d.procedure_id)}`).then((procedure) => {
      if (procedure.ok && !gone) renderDocuments(ctx, documents, d, procedure.data);
    });
    if (d.status === "draft") {
      const submit = el("button", t("dossier.submit"));
      submit.type = "button";
      submit.addEventListener("click", async () => {
        submit.disabled = true;
        const result = await ctx.api.submit("POST", `${path}/submit`, undefined, {
          ifMatch: ctx.api.etag(path),
          offline: () => { note.textContent = t("dossier.queued"); } });
        submit.disabled = false;
        if (result.ok) render(result.data);
        else if (!result.queued) note.textContent = result.error.detail ?? t("dossier.failed");
      });
      box.append(submit);
    }
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
  }

  (async () => {
    const result = await ctx.api.get(path);
    if (gone) return;
    if (result.ok) render(result.data);
    else if (result.status === 401) {
      const go = el("button", t("dossier.to_sign_in"));
      go.type = "button";
      go.addEventListener("click", () => ctx.router.go("#/account"));
      message(t("dossier.sign_in"), [go]);
    } else message(t(result.status === 404 || result.status === 403 ? "dossier.none"
      : "dossier.failed"));
  })();

  return () => {
    gone = true;
    panel.remove();
  };
}
