// #/lookup, #/lookup/:code — anyone holding a dossier's code sees its procedure, status, dates
// and public moves (never a name, a phone or a note); #/supplement/:code — the applicant
// answers a supplement request from the link in their message, without signing in.
import { DOSSIER_WORDS } from "./dossier-words.js";

const STRINGS = {
  vi: { ...DOSSIER_WORDS.vi, "lookup.title": "Tra cứu hồ sơ", "lookup.code": "Mã hồ sơ",
    "lookup.go": "Tra cứu", "lookup.scan": "Quét mã QR trên phiếu",
    "lookup.unreadable": "Không đọc được mã QR trong ảnh này", "lookup.none": "Không có hồ sơ nào mang mã này",
    "lookup.busy": "Bạn tra cứu quá nhiều lần: vui lòng thử lại sau ít phút",
    "lookup.failed": "Không tra cứu được. Vui lòng thử lại.", "lookup.status": "Trạng thái",
    "lookup.procedure": "Thủ tục", "lookup.submitted": "Nộp lúc", "lookup.received": "Tiếp nhận lúc",
    "lookup.due": "Hẹn trả kết quả", "lookup.returned": "Trả kết quả lúc",
    "supplement.title": "Bổ sung hồ sơ {code}", "supplement.missing": "Cần bổ sung",
    "supplement.due": "Hạn bổ sung: {day}", "supplement.note": "Nội dung bổ sung",
    "supplement.send": "Gửi bổ sung", "supplement.done": "Đã gửi bổ sung. Cảm ơn bạn.",
    "supplement.gone": "Đường dẫn này không còn hiệu lực: yêu cầu đã được trả lời hoặc đã hết hạn.",
    "result.title": "Kết quả", "result.signed": "Đã có kết quả, ký số lúc {when}",
    "result.check": "Kiểm tra bản sao bạn đang giữ (tệp không rời khỏi máy của bạn)",
    "result.match": "Khớp: đây đúng là kết quả cơ quan đã ban hành.",
    "result.mismatch": "Không khớp: tệp này không phải kết quả đã ban hành, hoặc đã bị sửa." },
  en: { ...DOSSIER_WORDS.en, "lookup.title": "Look a dossier up", "lookup.code": "Dossier code",
    "lookup.go": "Look up", "lookup.scan": "Scan the QR code on a receipt",
    "lookup.unreadable": "No QR code could be read in this picture", "lookup.none": "No dossier has this code",
    "lookup.busy": "Too many look-ups: please try again in a few minutes",
    "lookup.failed": "That did not work. Please try again.", "lookup.status": "Status",
    "lookup.procedure": "Procedure", "lookup.submitted": "Submitted", "lookup.received": "Received",
    "lookup.due": "Result due", "lookup.returned": "Result returned",
    "supplement.title": "Supplement dossier {code}", "supplement.missing": "Asked for",
    "supplement.due": "Due by {day}", "supplement.note": "Your supplement",
    "supplement.send": "Send the supplement", "supplement.done": "Supplement sent. Thank you.",
    "supplement.gone": "This link is not valid any more: the request was answered or it expired.",
    "result.title": "Result", "result.signed": "A result exists, signed on {when}",
    "result.check": "Check the copy you hold (the file does not leave your device)",
    "result.match": "It matches: this is the result the office issued.",
    "result.mismatch": "It does not match: not the issued result, or it was changed." },
};

export function mount(ctx, params, _state) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const supplement = location.hash.startsWith("#/supplement/");
  const { panel, view } = ctx.panel("lookup");
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  const when = (iso) => (iso ? new Date(iso).toLocaleString(locale) : "");
  const day = (iso) => (iso ? new Date(`${iso}T00:00:00`).toLocaleDateString(locale) : "");
  const box = el("div", undefined, "account-form");
  const h = el("h2", t("lookup.title"));
  h.id = "lookup-title";
  h.tabIndex = -1;
  const out = el("div");
  const note = el("p", "", "form-message");
  note.setAttribute("role", "alert");
  box.append(h, note, out);
  view.replaceChildren(box);
  let gone = false;

  function show(s) {
    const list = el("dl");
    const fact = (label, text) => { if (text) list.append(el("dt", label), el("dd", text)); };
    fact(t("lookup.code"), s.code);
    fact(t("lookup.procedure"), lang === "en" ? s.procedure_name_en : s.procedure_name_vi);
    fact(t("lookup.status"), t(`status.${s.status}`));
    fact(t("lookup.submitted"), when(s.submitted_at));
    fact(t("lookup.received"), when(s.received_at));
    fact(t("lookup.due"), day(s.due_on));
    fact(t("lookup.returned"), when(s.returned_at));
    const moves = el("ol", undefined, "issues");
    for (const e of s.events) moves.append(el("li", `${when(e.at)} · ${t(`action.${e.action}`)}`));
    list.id = "lookup-result";
    out.replaceChildren(list, moves);
    if (s.result_sha256) out.append(result(s));
  }

  // A copy of the signed result is checked by its SHA-256, computed here: the file is never
  // sent anywhere (a PDF reader checks its signature too).
  function result(s) {
    const section = el("section", undefined, "lookup-result-copy");
    section.append(el("h3", t("result.title")), el("p", t("result.signed", { when: when(s.result_signed_at) })));
    const input = el("input");
    input.type = "file";
    input.accept = "application/pdf";
    input.id = "result-copy";
    const said = el("p", "", "form-message");
    said.id = "result-verdict";
    said.setAttribute("role", "status");
    input.addEventListener("change", async () => {
      const file = input.files?.[0];
      if (!file) return;
      const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      said.textContent = t(hex === s.result_sha256 ? "result.match" : "result.mismatch");
    });
    section.append(labelled(t("result.check"), input), said);
    return section;
  }

  async function lookUp(code) {
    note.textContent = "";
    const result = await ctx.api.get(`/api/dossiers/lookup/${encodeURIComponent(code)}`);
    if (gone) return;
    if (result.ok) show(result.data);
    else {
      out.replaceChildren();
      note.textContent = t(result.status === 404 || result.status === 422 ? "lookup.none"
        : result.status === 429 ? "lookup.busy" : "lookup.failed");
    }
  }

  // A control with its label, in the form's field box.
  function labelled(text, control) {
    const field = el("div", undefined, "field");
    const label = el("label", text);
    label.htmlFor = control.id;
    field.append(label, control);
    return field;
  }

  function askCode() {
    const form = el("form");
    const input = el("input");
    input.type = "text";
    input.id = "lookup-code";
    input.autocapitalize = "characters";
    input.value = params.code ?? "";
    const field = labelled(t("lookup.code"), input);
    const go = el("button", t("lookup.go"));
    go.type = "submit";
    form.append(field, go);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = input.value.trim().toUpperCase();
      if (code) history.replaceState(null, "", `#/lookup/${encodeURIComponent(code)}`);
      if (code) lookUp(code);
    });
    box.insertBefore(form, note);
    if ("BarcodeDetector" in window) box.insertBefore(scanner(input), note);
    if (params.code) lookUp(params.code);
  }

  // Where the browser reads QR codes (Chrome on Android does): a photo of the receipt's code,
  // which holds the status page's address, and from it the dossier's code.
  function scanner(input) {
    const label = el("label", t("lookup.scan"), "button-like");
    const camera = el("input");
    camera.type = "file";
    camera.accept = "image/*";
    camera.capture = "environment";
    camera.hidden = true;
    label.append(camera);
    camera.addEventListener("change", async () => {
      const file = camera.files?.[0];
      if (!file) return;
      try {
        const found = await new window.BarcodeDetector({ formats: ["qr_code"] })
          .detect(await createImageBitmap(file));
        const text = found[0]?.rawValue ?? "";
        const code = decodeURIComponent(text.match(/#\/lookup\/([^/?#]+)/)?.[1] ?? "");
        if (!code) throw new Error("no code");
        input.value = code;
        history.replaceState(null, "", `#/lookup/${encodeURIComponent(code)}`);
        lookUp(code);
      } catch { note.textContent = t("lookup.unreadable"); }
    });
    return label;
  }

  async function answer(code) {
    const path = `/api/supplements/${encodeURIComponent(code)}`;
    const asked = await ctx.api.get(path);
    if (gone) return;
    if (!asked.ok) { note.textContent = t(asked.status === 404 || asked.status === 422 ? "supplement.gone" : "lookup.failed"); return; }
    const r = asked.data;
    h.textContent = t("supplement.title", { code: r.code });
    const items = el("ul");
    for (const line of r.missing) items.append(el("li", line));
    const form = el("form");
    const text = el("textarea");
    text.id = "supplement-note";
    const field = labelled(t("supplement.note"), text);
    const send = el("button", t("supplement.send"));
    send.type = "submit";
    form.append(field, send);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      send.disabled = true;
      const done = await ctx.api.submit("POST", path, { note: text.value.trim() || null });
      send.disabled = false;
      if (done.ok) { form.remove(); note.textContent = t("supplement.done"); show(done.data); }
      else note.textContent = done.error?.detail ?? t("lookup.failed");
    });
    out.replaceChildren(el("p", lang === "en" ? r.procedure_name_en : r.procedure_name_vi),
      el("h3", t("supplement.missing")), items, el("p", t("supplement.due", { day: day(r.due_on) })), form);
  }

  if (supplement) answer(params.code);
  else askCode();
  h.focus({ preventScroll: true });

  return () => {
    gone = true;
    panel.remove();
  };
}
