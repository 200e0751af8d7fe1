// #/office — the officers' mode: my queue, the most urgent first (a list grouped by urgency, or
// the same queue as dots on the map), each row with its one next move (one tap; a move that
// needs facts opens its small form), and for leaders the assignment of each item and the
// forecast's suggested reassignments. #/office/stats — the on-time figures of a period, as the
// proposal writes them, with bar charts (inline SVG) and the CSV/XLSX downloads.
// #/office/documents — the register, searched without diacritics. #/office/calendar — a week
// of meetings, inspections, leave and the queue's deadlines, and the phone's calendar feed.
// Every move goes through the item's own route with the ETag the queue gave as If-Match.
import { DOSSIER_WORDS, MOVE_FIELDS } from "./dossier-words.js";
import { FEEDBACK_WORDS } from "./feedback-words.js";

const STRINGS = {
  vi: {
    ...DOSSIER_WORDS.vi,
    ...FEEDBACK_WORDS.vi,
    "office.title": "Văn phòng điện tử",
    "office.tab.queue": "Việc cần làm",
    "office.tab.stats": "Thống kê",
    "office.tab.documents": "Văn bản",
    "office.tab.calendar": "Lịch",
    "office.tab.notices": "Thông báo",
    "docs.deadline": "Hạn trong văn bản: {day}",
    "docs.take_on": "Tạo việc có nhắc hạn",
    "docs.taken_on": "Đã tạo việc số {id}, hạn {day}: có trong danh sách việc cần làm.",
    "docs.file": "Tệp văn bản: {name} ({kb} KB)",
    "docs.attach": "Đính kèm tệp văn bản (PDF, ảnh quét)",
    "docs.replace": "Thay tệp văn bản",
    "docs.attached": "Đã đính kèm {name}.",
    "notices.empty": "Chưa có thông báo nào.",
    "notices.unread": "Chưa đọc",
    "notices.open": "Mở",
    "push.on": "Nhận thông báo trên máy này",
    "push.off": "Tắt thông báo trên máy này",
    "push.is_on": "Máy này nhận thông báo đẩy (Web Push) khi có việc mới, sắp đến hạn hoặc quá hạn.",
    "push.is_off": "Máy này chưa nhận thông báo đẩy; thông báo vẫn có trong danh sách này.",
    "push.denied": "Trình duyệt không cho phép thông báo: hãy bật lại trong cài đặt của trình duyệt.",
    "push.unsupported": "Trình duyệt này không hỗ trợ thông báo đẩy; thông báo vẫn có trong danh sách này.",
    "push.failed": "Không bật được thông báo đẩy, hãy thử lại.",
    "office.notices": "Thông báo chưa đọc: {n}",
    "office.sign_in": "Đăng nhập bằng tài khoản cán bộ để dùng văn phòng điện tử",
    "office.to_sign_in": "Đăng nhập",
    "office.forbidden": "Bạn không có quyền xem mục này (thống kê: dành cho lãnh đạo)",
    "office.failed": "Không tải được. Vui lòng thử lại.",
    "office.stale": "Việc này vừa được thay đổi ở nơi khác: đã tải lại, vui lòng thử lại.",
    "urgency.overdue": "Quá hạn",
    "urgency.today": "Hôm nay",
    "urgency.soon": "Trong 2 ngày làm việc",
    "urgency.later": "Sau đó",
    "urgency.none": "Chưa có hạn",
    "kind.dossier": "Hồ sơ",
    "kind.feedback": "Phản ánh",
    "kind.task": "Việc",
    "queue.empty": "Không có việc nào.",
    "queue.list": "Danh sách",
    "queue.map": "Bản đồ",
    "queue.ward": "Phường {ward} (cũ: {old})",
    "queue.ward_new": "Phường {ward}",
    "queue.left": "Còn {n} ngày làm việc",
    "queue.late": "Quá {n} ngày làm việc",
    "queue.due_today": "Hạn hôm nay",
    "queue.no_due": "Chưa có hạn",
    "queue.open": "Chi tiết",
    "queue.send": "Gửi",
    "queue.done": "Đã thực hiện: {what}",
    "queue.on_map": "{n} việc có vị trí trên bản đồ",
    "tstatus.open": "Đang mở",
    "taction.complete": "Hoàn thành",
    "faction.answer_short": "Trả lời",
    "field.reasons": "Lý do (mỗi dòng một lý do)",
    "field.missing": "Giấy tờ, nội dung cần bổ sung (mỗi dòng một mục)",
    "field.due_on": "Hạn bổ sung",
    "field.reason": "Lý do trễ hạn",
    "field.new_due_on": "Ngày hẹn trả mới",
    "field.result_no": "Số giấy phép / giấy chứng nhận",
    "field.answer": "Nội dung trả lời công khai",
    "field.question": "Câu hỏi cho người phản ánh",
    "field.closing": "Lý do đóng",
    "assign.title": "Giao việc",
    "assign.to": "Giao cho cán bộ",
    "assign.go": "Giao việc",
    "assign.done": "Đã giao cho {name}",
    "forecast.title": "Gợi ý giao lại (dự báo trễ hạn)",
    "forecast.none": "Không có gợi ý.",
    "forecast.line": "{what}: {from} → {to}, khả năng trễ {now} % → {after} %",
    "forecast.accept": "Đồng ý",
    "forecast.nobody": "chưa giao",
    "stats.period": "Kỳ thống kê",
    "stats.kind": "Loại kỳ",
    "stats.month": "Tháng",
    "stats.quarter": "Quý",
    "stats.half": "6 tháng",
    "stats.show": "Xem",
    "stats.dossiers": "Hồ sơ thủ tục hành chính",
    "stats.feedback": "Phản ánh, kiến nghị",
    "stats.group": "Nhóm",
    "stats.group_by": "Theo",
    "stats.report": "Lập bản đồ khối lượng công việc và phản ánh",
    "stats.report_open": "Mở bản đồ (chia sẻ bằng đường dẫn)",
    "stats.by.procedure": "Thủ tục",
    "stats.by.field": "Lĩnh vực",
    "stats.by.ward": "Phường",
    "stats.by.officer": "Cán bộ",
    "stats.by.department": "Phòng ban",
    "stats.received": "Tiếp nhận",
    "stats.handled": "Đã giải quyết",
    "stats.on_time": "Đúng hạn",
    "stats.overdue": "Đang quá hạn",
    "stats.said": "Đúng hạn / đã giải quyết",
    "stats.none": "Không có số liệu trong kỳ này.",
    "stats.chart": "Tỉ lệ đúng hạn",
    "stats.csv": "Tải CSV",
    "stats.xlsx": "Tải Excel (XLSX)",
    "docs.search": "Tìm văn bản (có thể gõ không dấu)",
    "docs.year": "Năm",
    "docs.any_year": "Mọi năm",
    "docs.go": "Tìm",
    "docs.none": "Không tìm thấy văn bản nào.",
    "docs.incoming": "Văn bản đến",
    "docs.outgoing": "Văn bản đi",
    "docs.dossier": "Hồ sơ {ref}",
    "docs.parcel": "Thửa {ref}",
    "docs.task": "Việc {ref}",
    "cal.week": "Tuần {first} – {last}",
    "cal.prev": "Tuần trước",
    "cal.next": "Tuần sau",
    "cal.empty": "Không có lịch",
    "cal.add": "Thêm lịch",
    "cal.kind": "Loại",
    "cal.meeting": "Họp",
    "cal.inspection": "Kiểm tra",
    "cal.leave": "Nghỉ phép",
    "cal.deadline": "Hạn",
    "cal.title_field": "Nội dung",
    "cal.starts": "Bắt đầu",
    "cal.ends": "Kết thúc",
    "cal.place": "Địa điểm",
    "cal.save": "Lưu lịch",
    "cal.feed": "Đăng ký lịch trên điện thoại",
    "cal.feed_hint": "Thêm địa chỉ này vào ứng dụng lịch của điện thoại (đăng ký lịch). Giữ bí mật: ai có địa chỉ đều xem được lịch. Tạo địa chỉ mới thì địa chỉ cũ hết hiệu lực.",
  },
  en: {
    ...DOSSIER_WORDS.en,
    ...FEEDBACK_WORDS.en,
    "office.title": "Mobile office",
    "office.tab.queue": "To do",
    "office.tab.stats": "Statistics",
    "office.tab.documents": "Documents",
    "office.tab.calendar": "Calendar",
    "office.tab.notices": "Notices",
    "docs.deadline": "Deadline in the document: {day}",
    "docs.take_on": "Make it a task with reminders",
    "docs.taken_on": "Task {id} made, due {day}: it is in your to-do list.",
    "docs.file": "The document's file: {name} ({kb} KB)",
    "docs.attach": "Attach the document's file (PDF, a scan)",
    "docs.replace": "Replace the document's file",
    "docs.attached": "{name} attached.",
    "notices.empty": "No notice yet.",
    "notices.unread": "Unread",
    "notices.open": "Open",
    "push.on": "Get notices on this device",
    "push.off": "Stop notices on this device",
    "push.is_on": "This device gets push notices (Web Push) for new work, work due soon and overdue work.",
    "push.is_off": "This device gets no push notices; they are still in this list.",
    "push.denied": "The browser does not allow notices: turn them back on in its settings.",
    "push.unsupported": "This browser cannot take push notices; they are still in this list.",
    "push.failed": "Push notices could not be turned on; try again.",
    "office.notices": "Unread notices: {n}",
    "office.sign_in": "Sign in with a staff account to use the mobile office",
    "office.to_sign_in": "Sign in",
    "office.forbidden": "You may not see this (statistics: for leaders)",
    "office.failed": "Could not load. Please try again.",
    "office.stale": "The item was just changed elsewhere: reloaded, please try again.",
    "urgency.overdue": "Overdue",
    "urgency.today": "Today",
    "urgency.soon": "Within 2 working days",
    "urgency.later": "Later",
    "urgency.none": "No deadline yet",
    "kind.dossier": "Dossier",
    "kind.feedback": "Report",
    "kind.task": "Task",
    "queue.empty": "Nothing to do.",
    "queue.list": "List",
    "queue.map": "Map",
    "queue.ward": "Ward {ward} (formerly {old})",
    "queue.ward_new": "Ward {ward}",
    "queue.left": "{n} working days left",
    "queue.late": "{n} working days overdue",
    "queue.due_today": "Due today",
    "queue.no_due": "No deadline",
    "queue.open": "Details",
    "queue.send": "Send",
    "queue.done": "Done: {what}",
    "queue.on_map": "{n} items placed on the map",
    "tstatus.open": "Open",
    "taction.complete": "Complete",
    "faction.answer_short": "Answer",
    "field.reasons": "Reasons (one a line)",
    "field.missing": "What is missing (one a line)",
    "field.due_on": "Supplement due",
    "field.reason": "Why it is late",
    "field.new_due_on": "New return date",
    "field.result_no": "Permit / certificate number",
    "field.answer": "The public answer",
    "field.question": "Question to the reporter",
    "field.closing": "Why it is closed",
    "assign.title": "Assign",
    "assign.to": "Assign to officer",
    "assign.go": "Assign",
    "assign.done": "Assigned to {name}",
    "forecast.title": "Suggested reassignments (lateness forecast)",
    "forecast.none": "No suggestions.",
    "forecast.line": "{what}: {from} → {to}, chance of lateness {now} % → {after} %",
    "forecast.accept": "Accept",
    "forecast.nobody": "unassigned",
    "stats.period": "Period",
    "stats.kind": "Kind of period",
    "stats.month": "Month",
    "stats.quarter": "Quarter",
    "stats.half": "Half year",
    "stats.show": "Show",
    "stats.dossiers": "Administrative dossiers",
    "stats.feedback": "Citizen reports",
    "stats.group": "Group",
    "stats.group_by": "By",
    "stats.report": "Make the workload and feedback map",
    "stats.report_open": "Open the map (share its link)",
    "stats.by.procedure": "Procedure",
    "stats.by.field": "Field",
    "stats.by.ward": "Ward",
    "stats.by.officer": "Officer",
    "stats.by.department": "Department",
    "stats.received": "Received",
    "stats.handled": "Handled",
    "stats.on_time": "On time",
    "stats.overdue": "Overdue now",
    "stats.said": "On time / handled",
    "stats.none": "No figures for this period.",
    "stats.chart": "On-time rate",
    "stats.csv": "Download CSV",
    "stats.xlsx": "Download Excel (XLSX)",
    "docs.search": "Search documents (diacritics optional)",
    "docs.year": "Year",
    "docs.any_year": "Any year",
    "docs.go": "Search",
    "docs.none": "No documents found.",
    "docs.incoming": "Incoming",
    "docs.outgoing": "Outgoing",
    "docs.dossier": "Dossier {ref}",
    "docs.parcel": "Parcel {ref}",
    "docs.task": "Task {ref}",
    "cal.week": "Week {first} – {last}",
    "cal.prev": "Previous week",
    "cal.next": "Next week",
    "cal.empty": "Nothing planned",
    "cal.add": "Add to the calendar",
    "cal.kind": "Kind",
    "cal.meeting": "Meeting",
    "cal.inspection": "Inspection",
    "cal.leave": "Leave",
    "cal.deadline": "Deadline",
    "cal.title_field": "What",
    "cal.starts": "Starts",
    "cal.ends": "Ends",
    "cal.place": "Place",
    "cal.save": "Save",
    "cal.feed": "Subscribe on my phone",
    "cal.feed_hint": "Add this address to your phone's calendar app (subscribe). Keep it secret: whoever has it reads the calendar. A new address revokes the old one.",
  },
};

const URGENCIES = ["overdue", "today", "soon", "later", "none"];
const SECTIONS = ["queue", "stats", "documents", "calendar", "notices"];
// The statistics' groupings (the API's `group`).
const GROUPS = ["procedure", "field", "ward", "officer", "department"];
// Moves besides the next one that the queue offers from a status (the server's guards and
// policy still decide: a refused move says why beside its row).
const OTHER_MOVES = {
  "dossier:in_processing": ["request_supplement", "refuse"],
  "dossier:supplement_requested": ["refuse"],
  "dossier:awaiting_receipt": ["decline"],
  "feedback:in_progress": ["ask"],
};
const LEADERS_ONLY = new Set(["approve", "refuse"]);
// The facts each feedback move asks for (its note is the text the guard reads).
const FEEDBACK_FIELDS = {
  answer: [{ name: "answer", kind: "text" }],
  ask: [{ name: "question", kind: "text" }],
  close: [{ name: "closing", kind: "closing" }],
};
const CLOSINGS = ["fixed", "cannot_fix", "duplicate", "not_competent"];
const QUEUE_SOURCE = "office-queue";

export function mount(ctx, { section = "queue", query = {} }) {
  const { el, lang, map } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view, heading, message } = ctx.panel("office");
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  const day = (iso) => (iso ? new Date(`${iso}T00:00:00`).toLocaleDateString(locale) : "");
  const pct = (x) => Math.round(100 * x);
  let gone = false;
  let onMap = false;
  const mapClick = [];
  const where = SECTIONS.includes(section) ? section : "queue";

  function button(text, cls, onClick) {
    const b = el("button", text, cls);
    b.type = "button";
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }

  // The officers' header: the sections and the unread notices (`ring` shows a count).
  let shownNotices = null;
  let ring = () => {};
  function header() {
    const bar = el("nav", undefined, "office-tabs");
    bar.setAttribute("aria-label", t("office.title"));
    for (const s of SECTIONS) {
      const a = el("a", t(`office.tab.${s}`));
      a.href = s === "queue" ? "#/office" : `#/office/${s}`;
      if (s === where) a.setAttribute("aria-current", "page");
      bar.append(a);
    }
    const bell = el("a", "🔔 0", "office-bell");
    bell.id = "office-bell";
    bell.href = "#/office/notices";
    bell.setAttribute("aria-label", t("office.notices", { n: 0 }));
    bar.append(bell);
    ring = (unread) => {
      bell.textContent = `🔔 ${unread.length}`;
      bell.setAttribute("aria-label", t("office.notices", { n: unread.length }));
      bell.classList.toggle("unread", unread.length > 0);
      bell.title = unread.slice(0, 5).map((n) => n.body).join("\n");
    };
    // The notices' own screen has them all already: no second request for the unread.
    if (shownNotices) ring(shownNotices.filter((n) => !n.read_at));
    else {
      ctx.api.get("/api/office/notices?unread=true", { cache: "no-store" }).then((r) => {
        if (r.ok && !gone) ring(r.data);
      });
    }
    return bar;
  }

  function page(...parts) {
    const box = el("div", undefined, "account-form office");
    box.append(heading(`${t("office.title")} · ${t(`office.tab.${where}`)}`), header(), ...parts);
    view.replaceChildren(box);
    box.querySelector("h2").focus({ preventScroll: true });
    return box;
  }

  function refused(result) {
    if (result.status === 401) {
      message(t("office.sign_in"), [button(t("office.to_sign_in"), undefined,
        () => ctx.router.go("#/account"))]);
      return true;
    }
    if (result.status === 403) { message(t("office.forbidden")); return true; }
    if (!result.ok) { message(t("office.failed")); return true; }
    return false;
  }

  function field(name, kind, label, prefix) {
    const box = el("div", undefined, "field");
    const caption = el("label", label);
    let control;
    if (kind === "lines" || kind === "text") control = el("textarea");
    else if (kind === "closing") {
      control = el("select");
      for (const c of CLOSINGS) {
        const option = el("option", t(`closing.${c}`));
        option.value = c;
        control.append(option);
      }
    } else {
      control = el("input");
      control.type = kind === "date" ? "date" : kind === "datetime" ? "datetime-local" : "text";
    }
    control.id = `${prefix}-${name}`;
    control.name = name;
    caption.htmlFor = control.id;
    box.append(caption, control);
    return box;
  }

  // ——— The queue ———
  const moveLabel = (item, action) => {
    if (item.kind === "task") return t(`taction.${action}`);
    if (item.kind === "feedback") return t(action === "answer" ? "faction.answer_short"
      : `faction.${action}`);
    return t(`action.${action}`);
  };
  const actionsPath = (item) => (item.kind === "dossier" ? `/api/dossiers/${item.id}/actions`
    : item.kind === "feedback" ? `/api/feedback/${item.id}/actions`
      : `/api/office/tasks/${item.id}/actions`);
  const fieldsOf = (item, action) => (item.kind === "dossier" ? MOVE_FIELDS[action] ?? []
    : item.kind === "feedback" ? FEEDBACK_FIELDS[action] ?? [] : []);

  function bodyOf(item, action, form, fields) {
    const body = { action };
    for (const f of fields) {
      const raw = form.elements[f.name].value.trim();
      if (item.kind === "feedback") {
        if (f.name === "closing") body.closing = raw;
        else body.note = raw || null;
      } else if (f.kind === "lines") body[f.name] = raw.split("\n").map((s) => s.trim()).filter(Boolean);
      else body[f.name] = raw || null;
    }
    return body;
  }

  async function send(item, action, body, note, reload) {
    await ctx.session.ready();
    const result = await ctx.api.submit("POST", actionsPath(item), body, { ifMatch: item.etag });
    if (gone) return;
    if (result.ok) { reload(t("queue.done", { what: `${t(`kind.${item.kind}`)} ${item.label ?? item.id}: ${moveLabel(item, action)}` })); return; }
    if (result.status === 412) { reload(t("office.stale")); return; }
    note.textContent = result.error?.detail ?? t("office.failed");
  }

  // One move of a row: a button that fires it, or opens its small form when it needs facts.
  function move(item, action, note, reload) {
    const fields = fieldsOf(item, action);
    const wrap = el("div", undefined, "office-move");
    wrap.dataset.action = action;
    const go = button(moveLabel(item, action), "office-act");
    go.name = action;
    wrap.append(go);
    if (!fields.length) {
      go.addEventListener("click", async () => {
        go.disabled = true;
        await send(item, action, { action }, note, reload);
        go.disabled = false;
      });
      return wrap;
    }
    const form = el("form", undefined, "office-form");
    form.hidden = true;
    const prefix = `q-${item.kind}-${item.id}-${action}`;
    for (const f of fields) {
      form.append(field(f.name, f.kind, t(`field.${f.name}`), prefix));
    }
    const submit = el("button", t("queue.send"));
    submit.type = "submit";
    form.append(submit);
    go.setAttribute("aria-expanded", "false");
    go.addEventListener("click", () => {
      form.hidden = !form.hidden;
      go.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.querySelector("textarea, input, select")?.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      await send(item, action, bodyOf(item, action, form, fields), note, reload);
      submit.disabled = false;
    });
    wrap.append(form);
    return wrap;
  }

  function officerName(officers, id) {
    return officers.find((o) => o.person_id === id)?.name ?? t("forecast.nobody");
  }

  function assignControl(item, officers, note, reload) {
    const form = el("form", undefined, "office-assign");
    const prefix = `assign-${item.kind}-${item.id}`;
    const box = el("div", undefined, "field");
    const label = el("label", t("assign.to"));
    const select = el("select");
    select.id = prefix;
    select.name = "assignee_id";
    label.htmlFor = select.id;
    for (const o of officers) {
      const option = el("option", `${o.name} (${o.open})`);
      option.value = String(o.person_id);
      option.selected = o.person_id === item.assignee_id;
      select.append(option);
    }
    box.append(label, select);
    const go = el("button", t("assign.go"));
    go.type = "submit";
    form.append(box, go);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      go.disabled = true;
      const to = Number(select.value);
      const result = await assign(item, to, item.etag);
      go.disabled = false;
      if (gone) return;
      if (result.ok) reload(t("assign.done", { name: officerName(officers, to) }));
      else if (result.status === 412) reload(t("office.stale"));
      else note.textContent = result.error?.detail ?? t("office.failed");
    });
    return form;
  }

  async function assign(item, to, etag) {
    await ctx.session.ready();
    return ctx.api.submit("POST", "/api/office/assignments",
      { kind: item.kind, id: item.id, assignee_id: to, note: null }, { ifMatch: etag });
  }

  function deadline(item) {
    const n = item.working_days_left;
    if (item.due_on === null) return t("queue.no_due");
    const days = n < 0 ? t("queue.late", { n: -n }) : n === 0 ? t("queue.due_today")
      : t("queue.left", { n });
    return `${days} · ${day(item.due_on)}`;
  }

  function row(item, leader, officers, reload) {
    const li = el("li", undefined, `office-item urgency-${item.urgency}`);
    li.dataset.kind = item.kind;
    li.dataset.id = String(item.id);
    const what = el(item.kind === "task" ? "span" : "a",
      `${t(`kind.${item.kind}`)} ${item.label ?? `#${item.id}`} · ${item.title}`, "office-what");
    if (item.kind === "dossier") what.href = `#/dossiers/${item.id}`;
    if (item.kind === "feedback") what.href = `#/feedback/${item.id}`;
    const status = item.kind === "dossier" ? t(`status.${item.status}`)
      : item.kind === "feedback" ? t(`fstatus.${item.status}`) : t(`tstatus.${item.status}`);
    const ward = item.ward ? (item.old_ward && item.old_ward !== item.ward
      ? t("queue.ward", { ward: item.ward, old: item.old_ward })
      : t("queue.ward_new", { ward: item.ward })) : "";
    const facts = el("p", [status, ward].filter(Boolean).join(" · "), "muted");
    const due = el("p", deadline(item), "office-due");
    const note = el("p", "", "form-message");
    note.setAttribute("role", "alert");
    const moves = el("div", undefined, "office-moves");
    const offered = [item.next_action, ...(OTHER_MOVES[`${item.kind}:${item.status}`] ?? [])]
      .filter((a, i, all) => a && all.indexOf(a) === i)
      .filter((a) => leader || !LEADERS_ONLY.has(a) || a === item.next_action);
    for (const action of offered) moves.append(move(item, action, note, reload));
    li.append(what, facts, due, moves);
    if (leader && officers.length) li.append(assignControl(item, officers, note, reload));
    li.append(note);
    return li;
  }

  function suggestions(forecast, byKey, reload) {
    const box = el("section", undefined, "office-forecast");
    box.append(el("h3", t("forecast.title")));
    if (!forecast.suggestions.length) { box.append(el("p", t("forecast.none"), "muted")); return box; }
    const list = el("ul", undefined, "issues");
    for (const s of forecast.suggestions.slice(0, 10)) {
      const item = byKey.get(`${s.kind}:${s.id}`) ?? { kind: s.kind, id: s.id, label: null };
      const li = el("li", t("forecast.line", {
        what: `${t(`kind.${s.kind}`)} ${item.label ?? `#${s.id}`}`,
        from: officerName(forecast.officers, s.from_id), to: officerName(forecast.officers, s.to_id),
        now: pct(s.chance_now), after: pct(s.chance_after) }));
      const note = el("span", "", "form-message");
      const ok = button(t("forecast.accept"), "office-act", async () => {
        ok.disabled = true;
        const result = await assign(s, s.to_id, s.etag);
        if (gone) return;
        if (result.ok) reload(t("assign.done", { name: officerName(forecast.officers, s.to_id) }));
        else if (result.status === 412) reload(t("office.stale"));
        else { ok.disabled = false; note.textContent = result.error?.detail ?? t("office.failed"); }
      });
      li.append(ok, note);
      list.append(li);
    }
    box.append(list);
    return box;
  }

  // The same queue as dots on the shell's map (a GeoJSON source; the app's own style).
  function showOnMap(items) {
    const features = items.filter((i) => i.lon !== null && i.lat !== null).map((i) => ({
      type: "Feature", geometry: { type: "Point", coordinates: [i.lon, i.lat] },
      properties: { kind: i.kind, id: i.id, urgency: i.urgency,
        label: `${t(`kind.${i.kind}`)} ${i.label ?? `#${i.id}`}` } }));
    const data = { type: "FeatureCollection", features };
    const draw = () => {
      if (gone) return;
      const source = map.getSource(QUEUE_SOURCE);
      if (source) source.setData(data);
      else {
        map.addSource(QUEUE_SOURCE, { type: "geojson", data });
        map.addLayer({ id: `${QUEUE_SOURCE}-dots`, type: "circle", source: QUEUE_SOURCE, paint: {
          "circle-radius": 8, "circle-stroke-width": 2, "circle-stroke-color": "#ffffff",
          "circle-color": ["match", ["get", "urgency"], "overdue", "#A4161A", "today", "#D9480F",
            "soon", "#F2A900", "later", "#1F4E79", "#767676"] } });
      }
      if (features.length) {
        const xs = features.map((f) => f.geometry.coordinates[0]);
        const ys = features.map((f) => f.geometry.coordinates[1]);
        map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]],
          { padding: 60, maxZoom: 16, duration: 0 });
      }
    };
    if (map.isStyleLoaded()) draw(); else map.once("load", draw);
    return features.length;
  }

  function hideFromMap() {
    if (map.getLayer(`${QUEUE_SOURCE}-dots`)) map.removeLayer(`${QUEUE_SOURCE}-dots`);
    if (map.getSource(QUEUE_SOURCE)) map.removeSource(QUEUE_SOURCE);
  }

  async function queue(said = "") {
    const person = await ctx.session.ready();
    const leader = Boolean(person?.roles.includes("leader"));
    const [result, forecast] = await Promise.all([
      ctx.api.get("/api/office/queue", { cache: "no-store" }),
      leader ? ctx.api.get("/api/office/forecast", { cache: "no-store" }) : Promise.resolve(null)]);
    if (gone || refused(result)) return;
    const items = result.data;
    const officers = forecast?.ok ? forecast.data.officers : [];
    const reload = (text) => queue(text);
    const note = el("p", said, "office-said");
    note.id = "office-said";
    note.setAttribute("role", "status");
    const toggle = el("div", undefined, "office-toggle");
    const asList = button(t("queue.list"), undefined, () => { onMap = false; queue(); });
    const asMap = button(t("queue.map"), undefined, () => { onMap = true; queue(); });
    asList.setAttribute("aria-pressed", String(!onMap));
    asMap.setAttribute("aria-pressed", String(onMap));
    toggle.append(asList, asMap);
    const parts = [toggle, note];
    if (onMap) {
      panel.classList.add("office-on-map");
      const placed = showOnMap(items);
      parts.push(el("p", t("queue.on_map", { n: placed }), "muted office-map-count"));
    } else {
      panel.classList.remove("office-on-map");
      hideFromMap();
      if (forecast?.ok) {
        parts.push(suggestions(forecast.data, new Map(items.map((i) => [`${i.kind}:${i.id}`, i])),
          reload));
      }
      if (!items.length) parts.push(el("p", t("queue.empty")));
      for (const u of URGENCIES) {
        const group = items.filter((i) => i.urgency === u);
        if (!group.length) continue;
        const section = el("section", undefined, "office-group");
        section.dataset.urgency = u;
        const list = el("ul", undefined, "office-list");
        list.append(...group.map((i) => row(i, leader, officers, reload)));
        section.append(el("h3", `${t(`urgency.${u}`)} (${group.length})`), list);
        parts.push(section);
      }
    }
    page(...parts);
  }

  // A dot tapped on the map shows its row (back in the list, scrolled to it).
  const onDot = (event) => {
    const f = event.features?.[0];
    if (!f) return;
    onMap = false;
    queue().then(() => {
      const row_ = view.querySelector(`.office-item[data-kind="${f.properties.kind}"][data-id="${f.properties.id}"]`);
      row_?.scrollIntoView({ block: "center" });
      row_?.querySelector("a, button")?.focus({ preventScroll: true });
    });
  };
  map.on("click", `${QUEUE_SOURCE}-dots`, onDot);
  mapClick.push(() => map.off("click", `${QUEUE_SOURCE}-dots`, onDot));

  // ——— Statistics ———
  function periods(kind, year) {
    if (kind === "month") return Array.from({ length: 12 }, (_, i) => [`${year}-${String(i + 1).padStart(2, "0")}`, `${t("stats.month")} ${i + 1}/${year}`]);
    if (kind === "quarter") return [1, 2, 3, 4].map((q) => [`${year}-Q${q}`, `${t("stats.quarter")} ${q}/${year}`]);
    return [1, 2].map((h) => [`${year}-H${h}`, `${t("stats.half")} ${h === 1 ? "I" : "II"}/${year}`]);
  }

  function currentPeriod(kind, now) {
    const m = now.getMonth() + 1;
    if (kind === "month") return `${now.getFullYear()}-${String(m).padStart(2, "0")}`;
    if (kind === "quarter") return `${now.getFullYear()}-Q${Math.ceil(m / 3)}`;
    return `${now.getFullYear()}-H${m <= 6 ? 1 : 2}`;
  }

  // Horizontal bars of the on-time rate, one a group (inline SVG: no chart library).
  function chart(rows, title) {
    const shown = rows.filter((r) => r.handled > 0);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const barH = 22;
    const height = shown.length * (barH + 8) + 4;
    svg.setAttribute("viewBox", `0 0 320 ${height}`);
    svg.setAttribute("width", "100%");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    svg.classList.add("office-chart");
    const make = (tag, attrs, text) => {
      const node = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
      if (text !== undefined) node.textContent = text;
      svg.append(node);
      return node;
    };
    shown.forEach((r, i) => {
      const y = i * (barH + 8) + 2;
      const rate = r.rate ?? 0;
      make("rect", { x: 120, y, width: 160, height: barH, fill: "#e6e6e6" });
      make("rect", { x: 120, y, width: Math.max(1, 160 * rate), height: barH,
        fill: rate >= 0.9 ? "#2B8A3E" : rate >= 0.7 ? "#F2A900" : "#A4161A" }).dataset.key = r.key ?? "";
      make("text", { x: 116, y: y + 15, "text-anchor": "end", "font-size": 11 },
        (r.name ?? r.key ?? "").slice(0, 22));
      make("text", { x: 284, y: y + 15, "font-size": 11 }, `${pct(rate)} %`);
    });
    return svg;
  }

  function table(rows, caption, id) {
    const box = el("table", undefined, "office-stats");
    box.id = id;
    box.append(el("caption", caption));
    const head = el("tr");
    for (const h of ["stats.group", "stats.received", "stats.handled", "stats.on_time", "stats.overdue", "stats.said"]) {
      head.append(el("th", t(h)));
    }
    box.append(head);
    for (const r of rows) {
      const tr = el("tr");
      tr.dataset.key = r.key ?? "";
      tr.append(el("td", r.name ?? r.key ?? ""), el("td", String(r.received)),
        el("td", String(r.handled)), el("td", String(r.on_time)), el("td", String(r.overdue)),
        el("td", r.said, "office-said-cell"));
      box.append(tr);
    }
    return box;
  }

  // The period's workload and feedback-density map (a page of its own, deck.gl over our map).
  function reportBox(chosen) {
    const box = el("p", undefined, "office-report");
    const said = el("span", "", "muted");
    said.setAttribute("role", "status");
    const make = button(t("stats.report"), "office-act", async () => {
      make.disabled = true;
      await ctx.session.ready();
      const made = await ctx.api.submit("POST", "/api/office/reports", { period: chosen },
        { retries: 0 });
      make.disabled = false;
      if (gone) return;
      said.replaceChildren();
      if (made.ok) {
        const open = el("a", t("stats.report_open"), "link");
        open.href = made.data.url;
        open.target = "_blank";
        open.rel = "noopener";
        said.append(open);
      } else {
        said.textContent = made.error?.detail ?? t("office.failed");
      }
    });
    box.append(make, " ", said);
    return box;
  }

  async function stats() {
    const kind = ["month", "quarter", "half"].includes(query.kind) ? query.kind : "half";
    const chosen = query.period || currentPeriod(kind, new Date());
    const year = Number(chosen.slice(0, 4)) || new Date().getFullYear();
    const group = GROUPS.includes(query.group) ? query.group : "procedure";
    const asked = `period=${encodeURIComponent(chosen)}&group=${group}`;
    const result = await ctx.api.get(`/api/office/stats?${asked}`, { cache: "no-store" });
    if (gone || refused(result)) return;
    const form = el("form", undefined, "office-period");
    const kindBox = el("div", undefined, "field");
    const kindLabel = el("label", t("stats.kind"));
    const kindSelect = el("select");
    kindSelect.id = "stats-kind";
    kindLabel.htmlFor = kindSelect.id;
    for (const k of ["month", "quarter", "half"]) {
      const option = el("option", t(`stats.${k}`));
      option.value = k;
      option.selected = k === kind;
      kindSelect.append(option);
    }
    kindBox.append(kindLabel, kindSelect);
    const periodBox = el("div", undefined, "field");
    const periodLabel = el("label", t("stats.period"));
    const periodSelect = el("select");
    periodSelect.id = "stats-period";
    periodLabel.htmlFor = periodSelect.id;
    const fill = (k) => {
      periodSelect.replaceChildren();
      for (const y of [year - 1, year, year + 1]) {
        for (const [value, name] of periods(k, y)) {
          const option = el("option", name);
          option.value = value;
          option.selected = value === chosen;
          periodSelect.append(option);
        }
      }
    };
    fill(kind);
    kindSelect.addEventListener("change", () => fill(kindSelect.value));
    periodBox.append(periodLabel, periodSelect);
    const groupBox = el("div", undefined, "field");
    const groupLabel = el("label", t("stats.group_by"));
    const groupSelect = el("select");
    groupSelect.id = "stats-group";
    groupLabel.htmlFor = groupSelect.id;
    for (const g of GROUPS) {
      const option = el("option", t(`stats.by.${g}`));
      option.value = g;
      option.selected = g === group;
      groupSelect.append(option);
    }
    groupBox.append(groupLabel, groupSelect);
    const go = el("button", t("stats.show"));
    go.type = "submit";
    form.append(kindBox, periodBox, groupBox, go);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ctx.router.go(`#/office/stats?kind=${kindSelect.value}&period=${periodSelect.value}&group=${groupSelect.value}`);
    });
    const s = result.data;
    const parts = [form, el("p", `${day(s.first)} – ${day(s.last)}`, "muted")];
    for (const [k, caption] of [["dossiers", t("stats.dossiers")], ["feedback", t("stats.feedback")]]) {
      const section = el("section", undefined, "office-stats-part");
      section.append(el("h3", caption));
      if (!s[k].length) section.append(el("p", t("stats.none"), "muted"));
      else section.append(table(s[k], caption, `stats-${k}`), chart(s[k], `${t("stats.chart")}: ${caption}`));
      parts.push(section);
    }
    const downloads = el("p", undefined, "office-downloads");
    for (const fmt of ["csv", "xlsx"]) {
      const a = el("a", t(`stats.${fmt}`), "link");
      a.href = `/api/office/stats?${asked}&format=${fmt}`;
      a.setAttribute("download", "");
      downloads.append(a, " ");
    }
    parts.push(downloads, reportBox(chosen));
    page(...parts);
  }

  // ——— Documents ———
  // The entry's file: its download, and a picker that attaches (or replaces) it.
  function fileOf(d) {
    const box = el("div", undefined, "office-doc-file");
    const shown = el("span");
    const show = (entry) => {
      shown.replaceChildren();
      if (!entry.file_name) return;
      const a = el("a", t("docs.file", { name: entry.file_name,
        kb: Math.max(1, Math.round(entry.file_size / 1024)) }), "link");
      a.href = `/api/office/documents/${entry.id}/file`;
      a.setAttribute("download", entry.file_name);
      shown.append(a, " ");
    };
    show(d);
    const label = el("label", t(d.file_name ? "docs.replace" : "docs.attach"), "office-act");
    const input = el("input");
    input.type = "file";
    input.accept = "application/pdf,image/jpeg,image/png";
    input.id = `docs-file-${d.id}`;
    label.htmlFor = input.id;
    const said = el("span", "", "muted");
    said.setAttribute("role", "status");
    input.addEventListener("change", async () => {
      const chosen = input.files?.[0];
      if (!chosen) return;
      const form = new FormData();
      form.append("file", chosen, chosen.name);
      input.disabled = true;
      await ctx.session.ready();
      const sent = await ctx.api.submit("PUT", `/api/office/documents/${d.id}/file`, form,
        { retries: 0 });
      input.disabled = false;
      input.value = "";
      if (gone) return;
      if (sent.ok) {
        show(sent.data);
        label.firstChild.textContent = t("docs.replace");
        said.textContent = t("docs.attached", { name: sent.data.file_name });
      } else {
        said.textContent = sent.error?.detail ?? t("office.failed");
      }
    });
    box.append(shown, label, input, " ", said);
    return box;
  }

  async function documents() {
    const q = query.q ?? "";
    const year = query.year ?? "";
    const params = new URLSearchParams();
    if (q) params.set("q", q);
    if (year) params.set("year", year);
    const result = await ctx.api.get(`/api/office/documents?${params}`, { cache: "no-store" });
    if (gone || refused(result)) return;
    const form = el("form", undefined, "office-search");
    form.setAttribute("role", "search");
    const qBox = field("q", "line", t("docs.search"), "docs");
    qBox.querySelector("input").value = q;
    qBox.querySelector("input").type = "search";
    const yBox = el("div", undefined, "field");
    const yLabel = el("label", t("docs.year"));
    const ySelect = el("select");
    ySelect.id = "docs-year";
    yLabel.htmlFor = ySelect.id;
    const any = el("option", t("docs.any_year"));
    any.value = "";
    ySelect.append(any);
    const now = new Date().getFullYear();
    for (let y = now; y >= now - 10; y -= 1) {
      const option = el("option", String(y));
      option.value = String(y);
      option.selected = String(y) === year;
      ySelect.append(option);
    }
    yBox.append(yLabel, ySelect);
    const go = el("button", t("docs.go"));
    go.type = "submit";
    form.append(qBox, yBox, go);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const next = new URLSearchParams();
      const text = form.elements.q.value.trim();
      if (text) next.set("q", text);
      if (ySelect.value) next.set("year", ySelect.value);
      ctx.router.go(`#/office/documents${next.size ? `?${next}` : ""}`);
    });
    const list = el("ul", undefined, "issues office-documents");
    for (const d of result.data) {
      const li = el("li");
      li.append(el("strong", `${d.symbol} · ${day(d.issued_on)}`),
        el("div", d.summary),
        el("div", `${t(`docs.${d.direction}`)} · ${d.doc_type} · ${d.issuer}`, "muted"));
      const links = el("div", undefined, "office-doc-links");
      for (const l of d.links) {
        const a = el("a", t(`docs.${l.kind}`, { ref: l.ref }), "link");
        if (l.kind === "dossier") a.href = `#/lookup/${encodeURIComponent(l.ref)}`;
        else if (l.kind === "parcel") a.href = `#/parcel/${encodeURIComponent(l.ref)}`;
        else a.href = "#/office";
        links.append(a, " ");
      }
      if (d.links.length) li.append(links);
      li.append(fileOf(d));
      // The deadline the document's text sets: one tap makes it the officer's task.
      if (d.deadline_on && !d.links.some((l) => l.kind === "task")) {
        const due = el("div", undefined, "office-doc-deadline");
        const said = el("span", "", "muted");
        const take = button(t("docs.take_on"), "office-act", async () => {
          take.disabled = true;
          await ctx.session.ready();
          const made = await ctx.api.submit("POST", `/api/office/documents/${d.id}/task`, {});
          if (gone) return;
          if (made.ok) {
            take.remove();
            said.textContent = t("docs.taken_on", { id: made.data.id, day: day(made.data.due_on) });
          } else {
            take.disabled = false;
            said.textContent = made.error?.detail ?? t("office.failed");
          }
        });
        due.append(el("strong", t("docs.deadline", { day: day(d.deadline_on) })), " ", take, " ", said);
        li.append(due);
      }
      list.append(li);
    }
    page(form, result.data.length ? list : el("p", t("docs.none")));
  }

  // ——— Calendar ———
  const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

  async function calendar(said = "") {
    const start = query.from ? new Date(`${query.from}T00:00:00`) : (() => {
      const d = new Date();
      d.setHours(0, 0, 0, 0);
      d.setDate(d.getDate() - ((d.getDay() + 6) % 7)); // Monday
      return d;
    })();
    const days = Array.from({ length: 7 }, (_, i) => {
      const d = new Date(start);
      d.setDate(start.getDate() + i);
      return d;
    });
    const first = isoDay(days[0]);
    const last = isoDay(days[6]);
    const result = await ctx.api.get(`/api/office/calendar?from=${first}&to=${last}`, { cache: "no-store" });
    if (gone || refused(result)) return;
    const shift = (n) => {
      const d = new Date(start);
      d.setDate(start.getDate() + n);
      return `#/office/calendar?from=${isoDay(d)}`;
    };
    const nav = el("p", undefined, "office-week-nav");
    const prev = el("a", t("cal.prev"), "link");
    prev.href = shift(-7);
    const next = el("a", t("cal.next"), "link");
    next.href = shift(7);
    nav.append(prev, el("strong", t("cal.week", { first: day(first), last: day(last) })), next);
    const week = el("ol", undefined, "office-week");
    for (const d of days) {
      const key = isoDay(d);
      const li = el("li", undefined, "office-day");
      li.dataset.day = key;
      li.append(el("h4", d.toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "numeric" })));
      const entries = result.data.filter((e) => {
        const s = new Date(e.starts_at);
        const en = new Date(e.ends_at);
        const dayStart = new Date(`${key}T00:00:00`);
        const dayEnd = new Date(dayStart);
        dayEnd.setDate(dayEnd.getDate() + 1);
        return s < dayEnd && en > dayStart;
      });
      const list = el("ul", undefined, "issues");
      for (const e of entries) {
        const time = e.all_day ? "" : `${new Date(e.starts_at).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })} `;
        const item = el("li", `${time}${t(`cal.${e.kind}`)}: ${e.title}${e.place ? ` · ${e.place}` : ""}`, `cal-${e.kind}`);
        list.append(item);
      }
      li.append(entries.length ? list : el("p", t("cal.empty"), "muted"));
      week.append(li);
    }
    // Add a meeting, an inspection or leave (one's own).
    const add = el("form", undefined, "office-add");
    add.append(el("h3", t("cal.add")));
    const kindBox = el("div", undefined, "field");
    const kindLabel = el("label", t("cal.kind"));
    const kind = el("select");
    kind.id = "cal-kind";
    kindLabel.htmlFor = kind.id;
    for (const k of ["meeting", "inspection", "leave"]) {
      const option = el("option", t(`cal.${k}`));
      option.value = k;
      kind.append(option);
    }
    kindBox.append(kindLabel, kind);
    add.append(kindBox, field("title", "line", t("cal.title_field"), "cal"),
      field("starts", "datetime", t("cal.starts"), "cal"), field("ends", "datetime", t("cal.ends"), "cal"),
      field("place", "line", t("cal.place"), "cal"));
    const note = el("p", said, "form-message");
    note.id = "cal-note";
    note.setAttribute("role", "alert");
    const save = el("button", t("cal.save"));
    save.type = "submit";
    add.append(save, note);
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = add.elements;
      const at = (v) => (v ? new Date(v).toISOString() : null);
      save.disabled = true;
      await ctx.session.ready();
      const sent = await ctx.api.submit("POST", "/api/office/calendar", { kind: kind.value,
        title: f.title.value.trim(), starts_at: at(f.starts.value), ends_at: at(f.ends.value),
        place: f.place.value.trim() });
      save.disabled = false;
      if (gone) return;
      if (sent.ok) calendar();
      else note.textContent = sent.error?.detail ? `${sent.error.field ?? ""}: ${sent.error.detail}` : t("office.failed");
    });
    // The phone's calendar: a new secret address, shown once.
    const feed = el("section", undefined, "office-feed");
    const url = el("input");
    url.id = "cal-feed-url";
    url.readOnly = true;
    url.hidden = true;
    url.setAttribute("aria-label", t("cal.feed"));
    const getFeed = button(t("cal.feed"), "office-act", async () => {
      getFeed.disabled = true;
      await ctx.session.ready();
      const made = await ctx.api.submit("POST", "/api/office/calendar/feed", {});
      getFeed.disabled = false;
      if (made.ok) { url.value = made.data.url; url.hidden = false; url.select(); }
    });
    feed.append(getFeed, el("p", t("cal.feed_hint"), "muted"), url);
    page(nav, week, add, feed);
  }

  // The notices (reminders, assignments), newest first; opening the list reads them. Below,
  // this device's Web Push subscription, on or off.
  async function notices() {
    const result = await ctx.api.get("/api/office/notices", { cache: "no-store" });
    if (gone || refused(result)) return;
    const list = el("ol", undefined, "issues office-notices");
    list.id = "office-notices";
    for (const n of result.data) {
      const item = el("li", undefined, n.read_at ? "" : "unread");
      if (!n.read_at) item.append(el("strong", `${t("notices.unread")} · `));
      item.append(el("span", n.body), el("span", ` · ${new Date(n.created_at).toLocaleString(locale)}`, "muted"));
      if (n.link?.startsWith("#/")) { // the app's own screens only
        const go = el("a", t("notices.open"), "link");
        go.href = n.link;
        item.append(" ", go);
      }
      list.append(item);
    }
    // The push switch comes when the service worker is ready (it may never be: the list
    // does not wait for it).
    const push = el("section", undefined, "office-push");
    shownNotices = result.data;
    page(result.data.length ? list : el("p", t("notices.empty"), "muted"), push);
    pushBox().then((box) => { if (!gone) push.replaceWith(box); });
    const unread = result.data.find((n) => !n.read_at);
    if (unread) {
      await ctx.session.ready();
      const read = await ctx.api.submit("POST", "/api/office/notices/read", { up_to: unread.id });
      if (read.ok && !gone) ring([]);
    }
  }

  async function pushBox() {
    const box = el("section", undefined, "office-push");
    const said = el("p", "", "muted");
    said.id = "office-push-state";
    if (!("serviceWorker" in navigator) || !("PushManager" in window)
        || !("Notification" in window)) {
      said.textContent = t("push.unsupported");
      box.append(said);
      return box;
    }
    const registration = await navigator.serviceWorker.ready;
    let current = await registration.pushManager.getSubscription();
    const toggle = button("", "office-act", async () => {
      toggle.disabled = true;
      await ctx.session.ready();
      try {
        if (current) {
          await ctx.api.submit("POST", "/api/push/subscriptions/end",
            { endpoint: current.endpoint });
          await current.unsubscribe();
          current = null;
        } else if (await Notification.requestPermission() !== "granted") {
          said.textContent = t("push.denied");
          return;
        } else {
          const key = await ctx.api.get("/api/push/key");
          if (!key.ok) throw new Error("no key");
          const made = await registration.pushManager.subscribe({ userVisibleOnly: true,
            applicationServerKey: key.data.key });
          const { endpoint, keys } = made.toJSON();
          const sent = await ctx.api.submit("POST", "/api/push/subscriptions", { endpoint, keys });
          if (!sent.ok) { await made.unsubscribe(); throw new Error("refused"); }
          current = made;
        }
        show();
      } catch {
        said.textContent = t("push.failed");
      } finally {
        toggle.disabled = false;
      }
    });
    toggle.id = "office-push";
    const show = () => {
      toggle.textContent = t(current ? "push.off" : "push.on");
      said.textContent = t(current ? "push.is_on" : "push.is_off");
    };
    show();
    box.append(toggle, said);
    return box;
  }

  const open = { queue, stats, documents, calendar, notices }[where];
  open();

  return () => {
    gone = true;
    for (const off of mapClick) off();
    hideFromMap();
    panel.remove();
  };
}
