// #/feedback/:id — one report as anyone sees it: its status, a timeline of its public moves
// with the department's answers, late, voices; for its reporter (signed in, or holding the
// report's token on this phone) answering a question, reopening, rating; for an officer of its
// department a few moves (ask, answer, close with its reason, hide). An anonymous report not
// yet confirmed shows the one-time code screen. #/feedback/mine — "my reports": the account's,
// those this phone sent, and those still waiting on it for a connection.
import { FEEDBACK_WORDS } from "./feedback-words.js";
import { discard, flush, held, kept, mine, remember } from "../feedback-store.js";

const STRINGS = {
  vi: {
    ...FEEDBACK_WORDS.vi,
    "report.title": "Phản ánh số {id}",
    "report.category": "Loại",
    "report.status": "Trạng thái",
    "report.late": "Quá hạn",
    "report.photo": "Ảnh {n} (đã che mặt người và biển số xe)",
    "report.due": "Hạn trả lời",
    "report.sent": "Gửi lúc",
    "report.by": "Người phản ánh",
    "report.voices": "{n} người cùng phản ánh",
    "report.hidden": "Nội dung đã được ẩn theo quy định",
    "report.closing": "Lý do đóng",
    "report.referred": "Chuyển đến: {body}",
    "report.duplicate": "Trùng với phản ánh số {id}",
    "report.permit_yes": "Thửa đất này có giấy phép xây dựng",
    "report.permit_no": "Chưa có giấy phép xây dựng nào cho thửa đất này",
    "report.parcel": "Thửa đất",
    "report.rating": "Đánh giá của người phản ánh: {n}/5",
    "report.timeline": "Quá trình xử lý",
    "report.none": "Không tìm thấy phản ánh này",
    "report.joined": "Bạn đã cùng phản ánh với phản ánh số {id}",
    "report.question": "Phòng ban đã gửi câu hỏi cho bạn (qua tin nhắn). Hãy trả lời tại đây.",
    "report.reply": "Câu trả lời của bạn",
    "report.send_reply": "Gửi câu trả lời",
    "report.reopen_reason": "Lý do mở lại (vấn đề chưa được khắc phục)",
    "report.reopen": "Mở lại phản ánh",
    "report.reopen_window": "Bạn có thể mở lại trong vòng 30 ngày sau khi đóng.",
    "report.rate": "Bạn hài lòng với kết quả xử lý?",
    "report.rate_n": "{n} sao",
    "report.rated": "Cảm ơn bạn đã đánh giá.",
    "report.unhappy": "Vấn đề chưa được giải quyết? Bạn có muốn mở lại phản ánh?",
    "report.stale": "Phản ánh vừa được thay đổi: đã tải lại, vui lòng thử lại.",
    "code.title": "Xác nhận phản ánh số {id}",
    "code.sent": "Chúng tôi đã gửi mã 6 số đến số điện thoại hoặc email bạn đã cho. Phản ánh chỉ được công khai và chuyển đến phòng ban sau khi xác nhận.",
    "code.code": "Mã xác nhận",
    "code.confirm": "Xác nhận",
    "code.wrong": "Mã không đúng",
    "code.expired": "Mã đã hết hạn: vui lòng gửi lại phản ánh",
    "staff.title": "Xử lý (cán bộ)",
    "staff.reporter": "Người phản ánh: {who}",
    "staff.note": "Nội dung",
    "staff.start": "Bắt đầu xử lý",
    "staff.ask": "Hỏi người phản ánh",
    "staff.answer": "Trả lời công khai",
    "staff.close": "Đóng phản ánh",
    "staff.closing": "Lý do đóng",
    "staff.referred_to": "Cơ quan tiếp nhận",
    "staff.duplicate_of": "Trùng với phản ánh số",
    "staff.hide": "Ẩn nội dung",
    "flood.of": "Thuộc đợt ngập ngày {day}: {n} phản ánh",
    "flood.receded": "Đợt ngập đã kết thúc (nước đã rút)",
    "flood.close": "Đóng đợt ngập (báo cho mọi người đã phản ánh)",
    "flood.note": "Lời nhắn cho người dân",
    "staff.hide_reason": "Lý do ẩn (nội dung xúc phạm, thông tin cá nhân)",
    "staff.show": "Hiện lại nội dung",
    "mine.title": "Phản ánh của tôi",
    "mine.empty": "Bạn chưa gửi phản ánh nào.",
    "mine.waiting": "Đang chờ kết nối — sẽ tự gửi",
    "mine.refused": "Không được nhận: {reason}",
    "mine.discard": "Bỏ phản ánh này",
    "mine.needs_code": "Chờ mã xác nhận",
    "mine.new": "Nhấn giữ trên bản đồ để gửi phản ánh mới.",
  },
  en: {
    ...FEEDBACK_WORDS.en,
    "report.title": "Report {id}",
    "report.category": "Kind",
    "report.status": "Status",
    "report.late": "Late",
    "report.due": "Answer due",
    "report.sent": "Sent",
    "report.by": "Reported by",
    "report.voices": "{n} others reported it too",
    "report.photo": "Photo {n} (faces and number plates blurred)",
    "report.hidden": "The content was hidden by moderation",
    "report.closing": "Why it was closed",
    "report.referred": "Referred to: {body}",
    "report.duplicate": "Duplicate of report {id}",
    "report.permit_yes": "This parcel has a construction permit",
    "report.permit_no": "No construction permit for this parcel",
    "report.parcel": "Parcel",
    "report.rating": "The reporter's rating: {n}/5",
    "report.timeline": "History",
    "report.none": "No such report",
    "report.joined": "You added your voice to report {id}",
    "report.question": "The department sent you a question (by message). Answer it here.",
    "report.reply": "Your answer",
    "report.send_reply": "Send the answer",
    "report.reopen_reason": "Why reopen it (the problem is not fixed)",
    "report.reopen": "Reopen the report",
    "report.reopen_window": "A report can be reopened within 30 days of its closing.",
    "report.rate": "Are you satisfied with how it was handled?",
    "report.rate_n": "{n} stars",
    "report.rated": "Thank you for your rating.",
    "report.unhappy": "Not solved? Would you like to reopen the report?",
    "report.stale": "The report was just changed: reloaded, please try again.",
    "code.title": "Confirm report {id}",
    "code.sent": "We sent a 6-digit code to the phone or e-mail you gave. The report is public and goes to the department once confirmed.",
    "code.code": "Code",
    "code.confirm": "Confirm",
    "code.wrong": "The code is wrong",
    "code.expired": "The code has expired: please send the report again",
    "staff.title": "Handling (officers)",
    "staff.reporter": "Reporter: {who}",
    "staff.note": "Text",
    "staff.start": "Start handling",
    "staff.ask": "Ask the reporter",
    "staff.answer": "Answer publicly",
    "staff.close": "Close the report",
    "staff.closing": "Why it is closed",
    "staff.referred_to": "Body it is referred to",
    "staff.duplicate_of": "Duplicate of report number",
    "staff.hide": "Hide the content",
    "flood.of": "Part of the flood event of {day}: {n} reports",
    "flood.receded": "The flood event is over (the water has receded)",
    "flood.close": "Close the flood event (tell everyone who reported it)",
    "flood.note": "A word for the residents",
    "staff.hide_reason": "Why it is hidden (abuse, personal data)",
    "staff.show": "Show the content again",
    "mine.title": "My reports",
    "mine.empty": "You have sent no report yet.",
    "mine.waiting": "Waiting for a connection — it will be sent by itself",
    "mine.refused": "Not accepted: {reason}",
    "mine.discard": "Drop this report",
    "mine.needs_code": "Awaiting its code",
    "mine.new": "Press and hold on the map to send a new report.",
  },
};
const OPEN = ["received", "assigned", "in_progress", "question", "answered"];
const CLOSINGS = ["fixed", "not_competent", "duplicate", "cannot_fix"];
const REOPEN_DAYS = 30;

export function mount(ctx, { id }) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view, heading, message } = ctx.panel("feedback");
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  const when = (iso) => (iso ? new Date(iso).toLocaleString(locale) : "");
  const day = (iso) => (iso ? new Date(`${iso}T00:00:00`).toLocaleDateString(locale) : "");
  let gone = false;
  let pin = null;

  function labelled(text, control, name) {
    const wrap = el("div", undefined, "field");
    const label = el("label", text);
    control.id = `feedback-${name}`;
    control.name = name;
    label.htmlFor = control.id;
    wrap.append(label, control);
    return wrap;
  }

  // ——— My reports ———
  async function showMine() {
    const box = el("div", undefined, "account-form");
    const list = el("ul", undefined, "issues feedback-mine");
    box.append(heading(t("mine.title")), list);
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
    const items = [];
    for (const entry of await kept().catch(() => [])) {
      const item = el("li", `${entry.body.description ?? ""} · `);
      item.dataset.key = entry.key;
      if (entry.state === "refused") {
        item.append(el("strong", t("mine.refused", { reason: entry.error?.detail ?? "" })));
        const drop = el("button", t("mine.discard"), "link danger");
        drop.type = "button";
        drop.addEventListener("click", async () => { await discard(entry.key); showMine(); });
        item.append(drop);
      } else {
        item.append(el("strong", t("mine.waiting")));
      }
      items.push(item);
    }
    const person = await ctx.session.ready();
    const seen = new Set();
    if (person) {
      const got = await ctx.api.get("/api/feedback/mine");
      for (const r of got.ok ? got.data : []) { seen.add(r.id); items.push(row(r)); }
    }
    for (const local of mine()) {
      if (seen.has(local.id)) continue;
      const got = await ctx.api.get(`/api/feedback/${local.id}`);
      if (got.ok) items.push(row(got.data));
      else if (got.status === 404 && local.needsCode) {
        const item = el("li");
        const link = el("a", `#${local.id} · ${t("mine.needs_code")}`);
        link.href = `#/feedback/${local.id}`;
        item.append(link);
        items.push(item);
      }
    }
    if (gone) return;
    list.replaceChildren(...items);
    if (!items.length) box.append(el("p", t("mine.empty")));
    box.append(el("p", t("mine.new"), "muted"));
  }

  function row(r) {
    const item = el("li");
    item.dataset.report = String(r.id);
    const link = el("a", `#${r.id} · ${lang === "en" ? r.category_en : r.category_vi}`);
    link.href = `#/feedback/${r.id}`;
    item.append(link, el("span", ` · ${t(`fstatus.${r.status}`)}`));
    if (r.late) item.append(el("span", ` · ${t("report.late")}`, "late-badge"));
    return item;
  }

  // ——— One report ———
  const path = `/api/feedback/${encodeURIComponent(id)}`;
  const token = () => held(Number(id))?.token ?? null;

  async function act(body, note) {
    await ctx.session.ready();
    const headers = {};
    if (token() && !ctx.session.person) headers["X-Report-Token"] = token();
    const result = await ctx.api.request("POST", `${path}/actions`, { body, headers,
      ifMatch: ctx.api.etag(path) });
    if (gone) return result;
    if (result.ok) { await load(); return result; }
    if (result.status === 412) { await load(t("report.stale")); return result; }
    note.textContent = result.error?.detail ?? t("feedback.failed");
    return result;
  }

  // A form of one move: its fields, a button; `build` makes the move's body from the form.
  function move(action, label, fields, build, note) {
    const form = el("form", undefined, "dossier-move");
    form.dataset.action = action;
    form.append(...fields);
    const go = el("button", label);
    go.type = "submit";
    form.append(go);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      go.disabled = true;
      await act(build(form), note);
      go.disabled = false;
    });
    return form;
  }

  const text = (label, name) => labelled(label, el("textarea"), name);
  const said = (form, name) => form.elements[name]?.value.trim() || null;

  function reporterMoves(r, note) {
    const out = [];
    if (r.status === "question") {
      out.push(el("p", t("report.question"), "feedback-question"),
        move("reply", t("report.send_reply"), [text(t("report.reply"), "reply")],
          (f) => ({ action: "reply", note: said(f, "reply") }), note));
    }
    const closedDays = r.closed_at ? (Date.now() - Date.parse(r.closed_at)) / 86_400_000 : null;
    if (r.status === "closed" && r.closing !== "duplicate" && closedDays <= REOPEN_DAYS) {
      const reopen = move("reopen", t("report.reopen"),
        [text(t("report.reopen_reason"), "reason")],
        (f) => ({ action: "reopen", note: said(f, "reason") }), note);
      reopen.prepend(el("p", t("report.reopen_window"), "muted"));
      if (r.rating === null) {
        const stars = el("fieldset", undefined, "feedback-rate");
        stars.append(el("legend", t("report.rate")));
        for (let n = 1; n <= 5; n += 1) {
          const star = el("button", "★".repeat(n));
          star.type = "button";
          star.setAttribute("aria-label", t("report.rate_n", { n }));
          star.addEventListener("click", async () => {
            const result = await act({ action: "rate", rating: n }, note);
            if (result.ok && n <= 2 && !gone) offerReopen();
          });
          stars.append(star);
        }
        out.push(stars);
      }
      out.push(reopen);
    }
    return out;
  }

  // An unhappy rating: the reopening form, asked for.
  function offerReopen() {
    const form = view.querySelector(".dossier-move[data-action='reopen']");
    if (!form) return;
    const ask = el("p", t("report.unhappy"), "feedback-unhappy");
    ask.setAttribute("role", "alert");
    form.prepend(ask);
    form.querySelector("textarea").focus();
  }

  function staffMoves(r, staff, note) {
    const box = el("section", undefined, "feedback-staff");
    box.append(el("h3", t("staff.title")));
    const who = [staff.reporter_name, staff.reporter_phone, staff.reporter_email]
      .filter(Boolean).join(" · ");
    if (who) box.append(el("p", t("staff.reporter", { who }), "muted"));
    if (staff.hidden_reason) box.append(el("p", staff.description));
    if (["received", "assigned"].includes(r.status)) {
      box.append(move("start", t("staff.start"), [], () => ({ action: "start" }), note));
    }
    if (r.status === "in_progress") {
      box.append(move("ask", t("staff.ask"), [text(t("staff.note"), "question")],
        (f) => ({ action: "ask", note: said(f, "question") }), note));
    }
    if (["in_progress", "question"].includes(r.status)) {
      box.append(move("answer", t("staff.answer"), [text(t("staff.note"), "answer")],
        (f) => ({ action: "answer", note: said(f, "answer") }), note));
    }
    if (OPEN.includes(r.status)) {
      const reason = el("select");
      for (const c of CLOSINGS) {
        const option = el("option", t(`closing.${c}`));
        option.value = c;
        reason.append(option);
      }
      const referred = labelled(t("staff.referred_to"), el("input"), "referred_to");
      const duplicate = labelled(t("staff.duplicate_of"), el("input"), "duplicate_of");
      duplicate.querySelector("input").inputMode = "numeric";
      const shown = () => {
        referred.hidden = reason.value !== "not_competent";
        duplicate.hidden = reason.value !== "duplicate";
      };
      reason.addEventListener("change", shown);
      shown();
      box.append(move("close", t("staff.close"), [labelled(t("staff.closing"), reason, "closing"),
        referred, duplicate, text(t("staff.note"), "close_note")], (f) => {
        const body = { action: "close", closing: f.elements.closing.value,
          note: said(f, "close_note") };
        if (body.closing === "not_competent") body.referred_to = said(f, "referred_to");
        if (body.closing === "duplicate") body.duplicate_of = Number(said(f, "duplicate_of")) || null;
        return body;
      }, note));
    }
    if (!r.hidden) {
      box.append(move("hide", t("staff.hide"), [text(t("staff.hide_reason"), "hide_reason")],
        (f) => ({ action: "hide", note: said(f, "hide_reason") }), note));
    } else {
      box.append(move("show", t("staff.show"), [], () => ({ action: "show" }), note));
    }
    return box;
  }

  // The day's flood event the report belongs to; its officers close it from here, and
  // everyone who reported it is told.
  async function floodOf(r, staff, box, note) {
    const floodPath = `/api/feedback/floods/${r.flood_id}`;
    const { ok, data: flood } = await ctx.api.get(floodPath);
    if (!ok || gone) return;
    box.append(el("p", t("flood.of", { day: day(flood.day), n: flood.reports })));
    if (flood.status === "closed") {
      box.append(el("p", t("flood.receded"), "muted"));
      return;
    }
    if (!staff) return;
    const form = el("form", undefined, "dossier-move");
    form.dataset.action = "close-flood";
    const go = el("button", t("flood.close"));
    go.type = "submit";
    form.append(text(t("flood.note"), "flood_note"), go);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      go.disabled = true;
      const result = await ctx.api.request("POST", `${floodPath}/actions`, {
        body: { action: "close", note: said(form, "flood_note") },
        ifMatch: ctx.api.etag(floodPath) });
      go.disabled = false;
      if (gone) return;
      if (result.ok || result.status === 412) await load(result.ok ? "" : t("report.stale"));
      else note.textContent = result.error?.detail ?? t("feedback.failed");
    });
    box.append(form);
  }

  function timeline(events) {
    const list = el("ol", undefined, "issues feedback-timeline");
    for (const e of events) {
      const item = el("li", `${when(e.at)} · ${t(`faction.${e.action}`)}`);
      item.dataset.action = e.action;
      if (e.note) item.append(el("div", e.note));
      list.append(item);
    }
    return list;
  }

  function render(r, staff, warning) {
    const box = el("div", undefined, "account-form");
    const facts = el("dl");
    const fact = (label, value) => {
      const dd = el("dd");
      if (value instanceof Node) dd.append(value); else dd.textContent = value;
      facts.append(el("dt", label), dd);
      return dd;
    };
    fact(t("report.category"), lang === "en" ? r.category_en : r.category_vi);
    const status = fact(t("report.status"), t(`fstatus.${r.status}`));
    status.className = "feedback-status";
    if (r.late) {
      const late = el("strong", t("report.late"), "late-badge");
      late.id = "feedback-late";
      status.append(" ", late);
    }
    fact(t("report.sent"), when(r.created_at));
    if (r.due_on && r.status !== "closed") fact(t("report.due"), day(r.due_on));
    if (r.reporter_name) fact(t("report.by"), r.reporter_name);
    if (r.parcel_key) {
      const parcel = el("a", r.parcel_key);
      parcel.href = `#/parcel/${r.parcel_key}`;
      fact(t("report.parcel"), parcel);
    }
    if (r.closing) {
      const why = fact(t("report.closing"), t(`closing.${r.closing}`));
      why.id = "feedback-closing";
      if (r.referred_to) why.append(el("div", t("report.referred", { body: r.referred_to })));
      if (r.duplicate_of) {
        const original = el("a", t("report.duplicate", { id: r.duplicate_of }));
        original.href = `#/feedback/${r.duplicate_of}`;
        why.append(el("div"), original);
      }
    }
    const note = el("p", warning, "form-message");
    note.id = "feedback-note";
    note.setAttribute("role", "alert");
    box.append(heading(t("report.title", { id: r.id })), facts);
    if (r.voices) {
      const voices = el("p", t("report.voices", { n: r.voices }), "feedback-voices");
      voices.id = "feedback-voices";
      box.append(voices);
    }
    if (r.parcel_permit !== null && r.parcel_permit !== undefined) {
      box.append(el("p", t(r.parcel_permit ? "report.permit_yes" : "report.permit_no")));
    }
    const description = el("p", r.hidden ? t("report.hidden") : r.description ?? "",
      r.hidden ? "muted" : "feedback-description");
    description.id = "feedback-text";
    box.append(description);
    // The public copies (faces and plates blurred), each opening whole in its own tab.
    if (r.photos?.length) {
      const photos = el("div", undefined, "feedback-gallery");
      photos.id = "feedback-gallery";
      r.photos.forEach((photo, i) => {
        const link = el("a");
        link.href = photo.url;
        link.target = "_blank";
        link.rel = "noopener";
        const image = el("img");
        image.src = photo.url;
        image.alt = t("report.photo", { n: i + 1 });
        image.loading = "lazy";
        image.decoding = "async";
        link.append(image);
        photos.append(link);
      });
      box.append(photos);
    }
    if (r.rating) box.append(el("p", t("report.rating", { n: r.rating }), "muted"));
    if (r.joined && r.duplicate_of) {
      const original = el("a", t("report.joined", { id: r.duplicate_of }));
      original.href = `#/feedback/${r.duplicate_of}`;
      const joined = el("p");
      joined.append(original);
      box.append(joined);
    }
    box.append(note);
    const reporter = Boolean(token()) || mineIds.has(r.id);
    if (reporter) box.append(...reporterMoves(r, note));
    if (staff) box.append(staffMoves(r, staff, note));
    if (r.flood_id) {
      const flood = el("section", undefined, "feedback-flood");
      flood.id = "feedback-flood";
      box.append(flood);
      floodOf(r, staff, flood, note);
    }
    if (r.events.length) box.append(el("h3", t("report.timeline")), timeline(r.events));
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
  }

  // The one-time code of an anonymous report, as it arrives after the report went.
  function askCode() {
    const form = el("form", undefined, "account-form");
    const input = el("input");
    input.type = "text";
    input.inputMode = "numeric";
    input.autocomplete = "one-time-code";
    input.maxLength = 6;
    const note = el("p", "", "form-message");
    note.setAttribute("role", "alert");
    const go = el("button", t("code.confirm"));
    go.type = "submit";
    form.append(heading(t("code.title", { id })), el("p", t("code.sent")),
      labelled(t("code.code"), input, "code"), note, go);
    form.id = "feedback-confirm";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      go.disabled = true;
      const result = await ctx.api.request("POST", `${path}/confirm`,
        { body: { code: input.value.trim() } });
      go.disabled = false;
      if (gone) return;
      if (result.ok) { remember(Number(id), { needsCode: false }); load(); return; }
      note.textContent = result.error?.detail?.includes("expired") ? t("code.expired")
        : result.status === 422 || result.status === 404 ? t("code.wrong") : t("feedback.failed");
    });
    view.replaceChildren(form);
    input.focus();
  }

  let mineIds = new Set();
  async function load(warning = "") {
    const person = await ctx.session.ready();
    const [result, staff, own] = await Promise.all([
      ctx.api.get(path, { cache: "no-store" }),
      person?.roles?.some((r) => r === "officer" || r === "leader")
        ? ctx.api.get(`${path}/staff`, { cache: "no-store" }) : Promise.resolve(null),
      person ? ctx.api.get("/api/feedback/mine?limit=200") : Promise.resolve(null)]);
    if (gone) return;
    mineIds = new Set(own?.ok ? own.data.map((r) => r.id) : []);
    if (result.ok) {
      pin?.();
      pin = ctx.pin([result.data.lon, result.data.lat]);
      render(result.data, staff?.ok ? staff.data : null, warning);
    } else if (result.status === 404 && held(Number(id))?.needsCode) askCode();
    else message(t(result.status === 404 || result.status === 422 ? "report.none"
      : "feedback.failed"));
  }

  if (id === "mine") {
    flush(ctx).catch(() => {}).finally(() => { if (!gone) showMine(); });
  } else load();
  const onFeedback = () => { if (id === "mine" && !gone) showMine(); };
  window.addEventListener("civicmap:feedback", onFeedback);

  return () => {
    gone = true;
    window.removeEventListener("civicmap:feedback", onFeedback);
    pin?.();
    panel.remove();
  };
}
