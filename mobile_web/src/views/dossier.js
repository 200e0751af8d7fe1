// #/dossiers/:id — one dossier, for its applicant and for the staff handling it: its facts and
// return date, the moves the caller may make now (each through the workflow engine, with
// If-Match of the version read), the history and the forms its moves wrote (receipt, supplement
// request, reasons, apology). A draft is submitted from here (one Idempotency-Key per
// submission; offline, the submission waits in the queue and goes when the network is back).
import { DOSSIER_WORDS, MOVE_FIELDS } from "./dossier-words.js";
import { renderDocuments } from "./documents.js";

const STRINGS = {
  vi: {
    ...DOSSIER_WORDS.vi,
    "dossier.title": "Hồ sơ {code}",
    "dossier.draft": "Hồ sơ (bản nháp)",
    "dossier.procedure": "Thủ tục",
    "dossier.parcel": "Thửa đất",
    "dossier.status": "Trạng thái",
    "dossier.created": "Tạo lúc",
    "dossier.submitted": "Nộp lúc",
    "dossier.received": "Tiếp nhận lúc",
    "dossier.due": "Hẹn trả kết quả",
    "dossier.late": "(đã quá hạn)",
    "dossier.stopped": "Tạm dừng tính thời gian từ {day}: chờ bổ sung",
    "dossier.returned": "Trả kết quả lúc",
    "dossier.answers": "Nội dung đề nghị",
    "dossier.history": "Quá trình xử lý",
    "dossier.forms": "Phiếu, giấy tờ",
    "dossier.moves": "Thao tác",
    "dossier.queued": "Đang ngoại tuyến: hồ sơ sẽ được nộp khi có mạng",
    "dossier.sign_in": "Đăng nhập để xem hồ sơ của bạn",
    "dossier.to_sign_in": "Đăng nhập",
    "dossier.none": "Không tìm thấy hồ sơ này",
    "dossier.failed": "Không thực hiện được. Vui lòng thử lại.",
    "dossier.stale": "Hồ sơ vừa được thay đổi ở nơi khác: đã tải lại, vui lòng thử lại.",
    "dossier.supplement_note": "Nội dung bổ sung",
    "field.reasons": "Lý do (mỗi dòng một lý do)",
    "field.missing": "Giấy tờ, nội dung cần bổ sung (mỗi dòng một mục)",
    "field.due_on": "Hạn bổ sung",
    "field.reason": "Lý do trễ hạn",
    "field.new_due_on": "Ngày hẹn trả mới",
    "field.result_no": "Số giấy phép / giấy chứng nhận",
    "field.note": "Ghi chú",
    "form.code": "Mã hồ sơ",
    "form.applicant": "Người nộp",
    "form.officer": "Người lập phiếu",
    "form.date": "Ngày lập",
    "precheck.title": "Kiểm tra so với quy hoạch",
    "precheck.clear": "Không vượt chỉ tiêu nào đã kiểm tra",
    "precheck.unchecked": "Chưa kiểm tra được (quy hoạch không quy định): {rules}",
    "fee.title": "Lệ phí",
    "fee.amount": "{amount} đ",
    "fee.due_online": "Thủ tục toàn trình: nộp lệ phí trực tuyến trước khi hồ sơ được tiếp nhận",
    "fee.pay": "Thanh toán lệ phí",
    "fee.paying": "Đang chuyển đến cổng thanh toán…",
    "fee.back.paid": "Đã thanh toán lệ phí. Cảm ơn bạn.",
    "fee.back.failed": "Thanh toán không thành công. Bạn có thể thử lại.",
    "fee.back.cancelled": "Bạn đã huỷ thanh toán.",
    "fee.back.pending": "Đang chờ cổng thanh toán xác nhận.",
    "payment.pending": "Chờ xác nhận",
    "payment.paid": "Đã thanh toán",
    "payment.failed": "Không thành công",
    "payment.cancelled": "Đã huỷ",
    "payment.refunding": "Đang hoàn tiền",
    "payment.refunded": "Đã hoàn tiền",
    "fee.unpaid": "Chưa thanh toán",
    "paper.download": "Tải phiếu (PDF)",
    "result.title": "Kết quả",
    "result.download": "Tải kết quả (PDF có chữ ký số)",
    "result.hint": "Mở bằng trình đọc PDF để kiểm tra chữ ký số; ai giữ bản sao có thể đối chiếu tại trang tra cứu hồ sơ.",
  },
  en: {
    ...DOSSIER_WORDS.en,
    "dossier.title": "Dossier {code}",
    "dossier.draft": "Dossier (draft)",
    "dossier.procedure": "Procedure",
    "dossier.parcel": "Parcel",
    "dossier.status": "Status",
    "dossier.created": "Created",
    "dossier.submitted": "Submitted",
    "dossier.received": "Received",
    "dossier.due": "Result due",
    "dossier.late": "(overdue)",
    "dossier.stopped": "Clock stopped since {day}: a supplement is owed",
    "dossier.returned": "Result returned",
    "dossier.answers": "What is applied for",
    "dossier.history": "History",
    "dossier.forms": "Forms",
    "dossier.moves": "Actions",
    "dossier.queued": "Offline: the dossier will be submitted when the network is back",
    "dossier.sign_in": "Sign in to see your dossiers",
    "dossier.to_sign_in": "Sign in",
    "dossier.none": "No such dossier",
    "dossier.failed": "That did not work. Please try again.",
    "dossier.stale": "The dossier was just changed elsewhere: reloaded, please try again.",
    "dossier.supplement_note": "Your supplement",
    "field.reasons": "Reasons (one a line)",
    "field.missing": "What is missing (one a line)",
    "field.due_on": "Supplement due",
    "field.reason": "Why it is late",
    "field.new_due_on": "New return date",
    "field.result_no": "Permit / certificate number",
    "field.note": "Note",
    "form.code": "Dossier code",
    "form.applicant": "Applicant",
    "form.officer": "Issued by",
    "form.date": "Date",
    "precheck.title": "Checked against the zoning",
    "precheck.clear": "Within every limit checked",
    "precheck.unchecked": "Could not be checked (the zoning sets no limit): {rules}",
    "fee.title": "Fee",
    "fee.amount": "{amount} VND",
    "fee.due_online": "Fully online procedure: the fee is paid online before the dossier is received",
    "fee.pay": "Pay the fee",
    "fee.paying": "Going to the payment gateway…",
    "fee.back.paid": "The fee is paid. Thank you.",
    "fee.back.failed": "The payment did not go through. You may try again.",
    "fee.back.cancelled": "You cancelled the payment.",
    "fee.back.pending": "Waiting for the gateway to confirm.",
    "payment.pending": "Awaiting confirmation",
    "payment.paid": "Paid",
    "payment.failed": "Failed",
    "payment.cancelled": "Cancelled",
    "payment.refunding": "Being refunded",
    "payment.refunded": "Refunded",
    "fee.unpaid": "Not paid",
    "paper.download": "Download (PDF)",
    "result.title": "Result",
    "result.download": "Download the result (digitally signed PDF)",
    "result.hint": "A PDF reader checks its digital signature; whoever holds a copy can check it on the dossier's look-up page.",
  },
};
// Applicants' own moves have routes of their own; the rest go through /actions.
const OWN_MOVES = new Set(["submit", "withdraw", "supplement"]);

export function mount(ctx, { id, query = {} }) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view } = ctx.panel("dossier");
  const path = `/api/dossiers/${encodeURIComponent(id)}`;
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  const when = (iso) => (iso ? new Date(iso).toLocaleString(locale) : "");
  const day = (iso) => (iso ? new Date(`${iso}T00:00:00`).toLocaleDateString(locale) : "");
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

  function facts(d) {
    const list = el("dl");
    const fact = (label, value) => {
      const dd = el("dd");
      if (value instanceof Node) dd.append(value); else dd.textContent = value;
      list.append(el("dt", label), dd);
      return dd;
    };
    fact(t("dossier.procedure"), d.procedure_id);
    const parcel = el("a", d.parcel_key);
    parcel.href = `#/parcel/${d.parcel_key}`;
    fact(t("dossier.parcel"), parcel);
    fact(t("dossier.status"), t(`status.${d.status}`)).className = "dossier-status";
    fact(t("dossier.created"), when(d.created_at));
    if (d.submitted_at) fact(t("dossier.submitted"), when(d.submitted_at));
    if (d.received_at) fact(t("dossier.received"), when(d.received_at));
    if (d.due_on) {
      const late = d.status === "overdue" ? ` ${t("dossier.late")}` : "";
      fact(t("dossier.due"), day(d.due_on) + late).id = "dossier-due";
    }
    if (d.returned_at) fact(t("dossier.returned"), when(d.returned_at));
    return list;
  }

  function answers(d) {
    const list = el("dl");
    for (const [key, value] of Object.entries(d.answers)) list.append(el("dt", key), el("dd", String(value)));
    return list;
  }

  function input(field, prefix) {
    const box = el("div", undefined, "field");
    const label = el("label", t(`field.${field.name}`));
    const control = field.kind === "lines" || field.kind === "text"
      ? el("textarea") : el("input");
    if (field.kind === "date") control.type = "date";
    else if (field.kind === "line") control.type = "text";
    control.id = `${prefix}-${field.name}`;
    control.name = field.name;
    label.htmlFor = control.id;
    box.append(label, control);
    return box;
  }

  function value(form, field) {
    const raw = form.elements[field.name].value.trim();
    if (field.kind === "lines") return raw.split("\n").map((s) => s.trim()).filter(Boolean);
    return raw || null;
  }

  // One staff move: its inputs, a note, and the button that fires it.
  function move(action, d, note, reload) {
    const form = el("form", undefined, "dossier-move");
    form.dataset.action = action;
    const fields = MOVE_FIELDS[action] ?? [];
    for (const field of fields) form.append(input(field, `move-${action}`));
    if (fields.length) form.append(input({ name: "note", kind: "text" }, `move-${action}`));
    const go = el("button", t(`action.${action}`));
    go.type = "submit";
    go.name = action;
    form.append(go);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { action };
      for (const field of fields) body[field.name] = value(form, field);
      if (fields.length) body.note = form.elements.note.value.trim() || null;
      go.disabled = true;
      await ctx.session.ready();
      const result = await ctx.api.submit("POST", `${path}/actions`, body,
        { ifMatch: ctx.api.etag(path) });
      go.disabled = false;
      settle(result, note, reload);
    });
    return form;
  }

  function settle(result, note, reload) {
    if (result.ok) { reload(); return; }
    if (result.status === 412) { note.textContent = t("dossier.stale"); reload(t("dossier.stale")); return; }
    note.textContent = result.error?.detail ?? t("dossier.failed");
  }

  function ownMoves(d, note, reload) {
    const out = [];
    if (d.status === "draft") {
      const submit = el("button", t("action.submit"));
      submit.type = "button";
      submit.name = "submit";
      submit.addEventListener("click", async () => {
        submit.disabled = true;
        await ctx.session.ready();
        const result = await ctx.api.submit("POST", `${path}/submit`, undefined, {
          ifMatch: ctx.api.etag(path),
          offline: () => { note.textContent = t("dossier.queued"); } });
        submit.disabled = false;
        if (!result.queued) settle(result, note, reload);
      });
      out.push(submit);
    }
    if (d.actions.includes("supplement")) {
      const form = el("form", undefined, "dossier-move");
      form.dataset.action = "supplement";
      const box = el("div", undefined, "field");
      const label = el("label", t("dossier.supplement_note"));
      const text = el("textarea");
      text.id = "supplement-note";
      label.htmlFor = text.id;
      box.append(label, text);
      const go = el("button", t("action.supplement"));
      go.type = "submit";
      form.append(box, go);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        go.disabled = true;
        await ctx.session.ready();
        const result = await ctx.api.submit("POST", `${path}/supplement`,
          { note: text.value.trim() || null }, { ifMatch: ctx.api.etag(path) });
        go.disabled = false;
        settle(result, note, reload);
      });
      out.push(form);
    }
    if (d.actions.includes("withdraw")) {
      const withdraw = el("button", t("action.withdraw"), "link danger");
      withdraw.type = "button";
      withdraw.name = "withdraw";
      withdraw.addEventListener("click", async () => {
        await ctx.session.ready();
        const result = await ctx.api.submit("POST", `${path}/withdraw`, undefined,
          { ifMatch: ctx.api.etag(path) });
        settle(result, note, reload);
      });
      out.push(withdraw);
    }
    return out;
  }

  // The same pre-check the applicant saw before submitting: each rule the plan breaks, with
  // the parcel's number.
  function precheck(result) {
    const box = el("section", undefined, "dossier-precheck");
    box.append(el("h3", t("precheck.title")));
    if (!result.findings.length) box.append(el("p", t("precheck.clear")));
    const list = el("ul", undefined, "issues");
    for (const f of result.findings) list.append(el("li", lang === "en" ? f.message_en : f.message_vi, "rejected"));
    if (result.findings.length) box.append(list);
    if (result.unchecked.length) box.append(el("p", t("precheck.unchecked", { rules: result.unchecked.join(", ") })));
    return box;
  }

  // The fee: how much, whether it is paid (each attempt with its state), and the way to the
  // gateway for the applicant while it is owed. The amount is the procedure's, never ours.
  function fee(f, note) {
    const box = el("section", undefined, "dossier-fee");
    box.append(el("h3", t("fee.title")));
    const latest = f.payments[0];
    const state = f.paid ? t("payment.paid") : latest ? t(`payment.${latest.status}`) : t("fee.unpaid");
    const line = el("p", `${t("fee.amount", { amount: f.fee_vnd.toLocaleString("vi-VN") })} · `);
    const shown = el("strong", state);
    shown.id = "dossier-fee-state";
    line.append(shown);
    box.append(line);
    if (f.due_online && !f.paid) box.append(el("p", t("fee.due_online"), "muted"));
    if (f.payable) {
      const pay = el("button", t("fee.pay"));
      pay.type = "button";
      pay.name = "pay";
      pay.addEventListener("click", async () => {
        pay.disabled = true;
        await ctx.session.ready();
        const result = await ctx.api.submit("POST", `${path}/payments`, {});
        if (result.ok) { note.textContent = t("fee.paying"); window.location.assign(result.data.checkout_url); return; }
        pay.disabled = false;
        note.textContent = result.error?.detail ?? t("dossier.failed");
      });
      box.append(pay);
    }
    return box;
  }

  function history(events) {
    const list = el("ol", undefined, "issues dossier-history");
    for (const e of events) {
      const item = el("li", `${when(e.at)} · ${t(`action.${e.action}`)}`);
      if (e.actor_name) item.append(el("span", ` · ${e.actor_name}`));
      if (e.note) item.append(el("div", e.note));
      list.append(item);
    }
    return list;
  }

  function formPage(f) {
    const page = el("article", undefined, "dossier-form");
    page.dataset.form = f.form;
    page.append(el("h3", `${t(`form.${f.form}`)} (${f.form})`));
    const list = el("dl");
    const fact = (label, text) => { if (text) list.append(el("dt", label), el("dd", text)); };
    fact(t("form.code"), f.code);
    fact(t("dossier.procedure"), f.procedure_id);
    fact(t("form.applicant"), f.applicant_name);
    fact(t("form.date"), when(f.at));
    fact(t("form.officer"), f.officer);
    const detail = f.detail;
    fact(t("dossier.due"), day(detail.form === "04" ? detail.new_due_on : detail.form === "01" ? detail.due_on : null));
    fact(t("field.due_on"), detail.form === "02" ? day(detail.due_on) : null);
    fact(t("field.reason"), detail.reason);
    page.append(list);
    for (const key of ["missing", "reasons"]) {
      if (!detail[key]) continue;
      page.append(el("p", t(`field.${key}`).replace(/ \(.*\)$/, "")));
      const items = el("ul");
      for (const line of detail[key]) items.append(el("li", line));
      page.append(items);
    }
    if (f.note) page.append(el("p", f.note));
    const download = el("a", t("paper.download"));
    download.href = `${path}/papers/${f.form}`;
    download.setAttribute("download", "");
    page.append(download);
    return page;
  }

  function render(d, events, forms, checked, fees, warning = "") {
    const box = el("div", undefined, "account-form");
    const note = el("p", warning, "form-message");
    note.id = "dossier-note";
    note.setAttribute("role", "alert");
    box.append(heading(d.code ? t("dossier.title", { code: d.code }) : t("dossier.draft")),
      facts(d));
    if (d.clock_stopped_on) box.append(el("p", t("dossier.stopped", { day: day(d.clock_stopped_on) })));
    if (Object.keys(d.answers).length) box.append(el("h3", t("dossier.answers")), answers(d));
    if (checked && checked.checked.length + checked.unchecked.length) box.append(precheck(checked));
    if (fees && fees.fee_vnd) box.append(fee(fees, note));
    const documents = el("section");
    box.append(documents, note);
    ctx.api.get(`/api/procedures/${encodeURIComponent(d.procedure_id)}`).then((procedure) => {
      if (procedure.ok && !gone) renderDocuments(ctx, documents, d, procedure.data);
    });
    const reload = (said = "") => load(said);
    box.append(...ownMoves(d, note, reload));
    const staffMoves = d.actions.filter((a) => !OWN_MOVES.has(a));
    if (staffMoves.length) {
      const moves = el("section", undefined, "dossier-moves");
      moves.append(el("h3", t("dossier.moves")), ...staffMoves.map((a) => move(a, d, note, reload)));
      box.append(moves);
    }
    // A result was issued (a refused dossier's "result" is its Form 03, above).
    if (events.some((e) => e.action === "issue_result")) {
      const result = el("section", undefined, "dossier-result");
      const link = el("a", t("result.download"));
      link.href = `${path}/result`;
      link.setAttribute("download", "");
      result.append(el("h3", t("result.title")), link, el("p", t("result.hint"), "muted"));
      box.append(result);
    }
    if (forms.length) box.append(el("h3", t("dossier.forms")), ...forms.map(formPage));
    if (events.length) box.append(el("h3", t("dossier.history")), history(events));
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
  }

  async function load(warning = "") {
    const [result, events, forms, checked, fees] = await Promise.all([
      ctx.api.get(path), ctx.api.get(`${path}/events`), ctx.api.get(`${path}/forms`),
      ctx.api.get(`${path}/precheck`), ctx.api.get(`${path}/payments`, { cache: "no-store" })]);
    if (gone) return;
    if (result.ok) {
      render(result.data, events.ok ? events.data : [], forms.ok ? forms.data : [],
        checked.ok ? checked.data : null, fees.ok ? fees.data : null, warning);
    }
    else if (result.status === 401) {
      const go = el("button", t("dossier.to_sign_in"));
      go.type = "button";
      go.addEventListener("click", () => ctx.router.go("#/account"));
      message(t("dossier.sign_in"), [go]);
    } else message(t(result.status === 404 || result.status === 403 ? "dossier.none"
      : "dossier.failed"));
  }
  // Back from the gateway: say how it went (the gateway's notice moved the payment already).
  load(query.payment ? t(`fee.back.${query.payment}`) : "");

  return () => {
    gone = true;
    panel.remove();
  };
}
