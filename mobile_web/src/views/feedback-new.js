// #/feedback/new?lon=&lat=[&parcel=][&category=] — a report from the map: its category, what
// is wrong, up to five photos (a photo's own place may place the report), whether the public
// may see the reporter's name, and how an anonymous reporter gets the code that confirms it.
// Before it is sent, reports of its kind within 50 m are offered ("me too" instead of a
// duplicate). It is kept on the phone first and sent from there (see feedback-store.js): a
// report written offline waits there and goes when the network is back.
import { FEEDBACK_WORDS } from "./feedback-words.js";
import { photoPlace } from "../exif.js";
import { device, prepare, write } from "../feedback-store.js";

const STRINGS = {
  vi: {
    ...FEEDBACK_WORDS.vi,
    "new.title": "Phản ánh tại đây",
    "new.place": "Vị trí: {lat}, {lon}",
    "new.parcel": "Thửa đất: {key}",
    "new.no_place": "Nhấn giữ trên bản đồ (hoặc nhấn chuột phải) tại nơi cần phản ánh.",
    "new.category": "Loại phản ánh",
    "new.choose": "— Chọn loại phản ánh —",
    "new.description": "Nội dung phản ánh",
    "new.photos": "Ảnh (tối đa {max})",
    "new.camera": "Chụp ảnh",
    "new.gallery": "Chọn ảnh có sẵn",
    "new.remove_photo": "Bỏ ảnh",
    "new.use_photo_place": "Dùng vị trí trong ảnh",
    "new.photo_place_used": "Đã dùng vị trí trong ảnh",
    "new.too_many": "Tối đa {max} ảnh",
    "new.show_name": "Cho phép công khai tên của tôi",
    "new.privacy": "Phòng ban luôn biết ai gửi phản ánh; công chúng chỉ thấy tên bạn nếu bạn cho phép.",
    "new.name": "Họ và tên",
    "new.contact": "Số điện thoại hoặc email (để nhận mã xác nhận)",
    "new.or_sign_in": "Đã có tài khoản? Đăng nhập để không cần mã",
    "new.send": "Gửi phản ánh",
    "new.sending": "Đang gửi…",
    "new.need_category": "Chọn loại phản ánh",
    "new.need_description": "Mô tả vấn đề (ít nhất 3 ký tự)",
    "new.need_contact": "Nhập số điện thoại hoặc email để nhận mã xác nhận",
    "new.need_name": "Nhập tên để công khai",
    "new.need_parcel": "Phản ánh xây dựng không phép phải gắn với một thửa đất: nhấn giữ trên thửa đất đó.",
    "new.nearby": "Có phải một trong số này?",
    "new.nearby_hint": "Đã có phản ánh cùng loại trong vòng 50 m. Nếu đúng là vấn đề này, hãy thêm tiếng nói của bạn thay vì gửi phản ánh mới.",
    "new.distance": "cách {m} m",
    "new.me_too": "Tôi cũng gặp",
    "new.not_these": "Không phải, gửi phản ánh mới",
    "new.waiting": "Đang chờ kết nối — sẽ tự gửi",
    "new.waiting_hint": "Phản ánh được lưu trên điện thoại và sẽ tự gửi khi có mạng. Bạn có thể đóng màn hình này.",
    "new.refused": "Phản ánh chưa được nhận: {reason}",
    "new.mine": "Phản ánh của tôi",
    "new.unavailable": "Không tải được danh sách loại phản ánh. Vui lòng thử lại khi có mạng.",
    "new.outside": "Vị trí nằm ngoài Quận 7",
  },
  en: {
    ...FEEDBACK_WORDS.en,
    "new.title": "Report a problem here",
    "new.place": "Place: {lat}, {lon}",
    "new.parcel": "Parcel: {key}",
    "new.no_place": "Press and hold on the map (or right-click) where the problem is.",
    "new.category": "Kind of problem",
    "new.choose": "— Choose a kind —",
    "new.description": "What is wrong",
    "new.photos": "Photos (at most {max})",
    "new.camera": "Take a photo",
    "new.gallery": "Choose photos",
    "new.remove_photo": "Remove photo",
    "new.use_photo_place": "Use the place in the photo",
    "new.photo_place_used": "The photo's place is used",
    "new.too_many": "At most {max} photos",
    "new.show_name": "The public may see my name",
    "new.privacy": "The department always knows who sent a report; the public sees your name only if you allow it.",
    "new.name": "Full name",
    "new.contact": "Phone or e-mail (for the confirmation code)",
    "new.or_sign_in": "Have an account? Sign in and no code is needed",
    "new.send": "Send the report",
    "new.sending": "Sending…",
    "new.need_category": "Choose a kind of problem",
    "new.need_description": "Describe the problem (3 characters at least)",
    "new.need_contact": "Give a phone number or an e-mail for the code",
    "new.need_name": "Give the name to show",
    "new.need_parcel": "Construction without a permit is reported on a parcel: press and hold on it.",
    "new.nearby": "Is it one of these?",
    "new.nearby_hint": "Reports of this kind exist within 50 m. If it is the same problem, add your voice instead of a new report.",
    "new.distance": "{m} m away",
    "new.me_too": "Me too",
    "new.not_these": "No, send a new report",
    "new.waiting": "Waiting for a connection — it will be sent by itself",
    "new.waiting_hint": "The report is kept on this phone and goes when the network is back. You may close this screen.",
    "new.refused": "The report was not accepted: {reason}",
    "new.mine": "My reports",
    "new.unavailable": "The kinds of report could not be loaded. Please try again online.",
    "new.outside": "The place is outside District 7",
  },
};
const MAX_PHOTOS = 5;
const SHOW_NAME = "civicmap-feedback-show-name";
const CATEGORIES = "civicmap-feedback-categories";
const SERVER_MAX = 9.5 * 1024 * 1024; // under the server's 10 MB

// The categories, kept for a report written offline.
async function categories(ctx) {
  const result = await ctx.api.get("/api/feedback/categories");
  if (result.ok) {
    localStorage.setItem(CATEGORIES, JSON.stringify(result.data));
    return result.data;
  }
  try { return JSON.parse(localStorage.getItem(CATEGORIES) || "null"); } catch { return null; }
}

// A photo the server takes: JPEG or PNG under its limit as it is; any other (HEIC, a huge
// one) drawn again as a JPEG of at most 2560 px (the place was read from the original).
async function sendable(file) {
  if ((file.type === "image/jpeg" || file.type === "image/png") && file.size <= SERVER_MAX) {
    return file;
  }
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 2560 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((done) => { canvas.toBlob(done, "image/jpeg", 0.85); });
    return blob ?? file;
  } catch {
    return file; // the server says what is wrong with it
  }
}

export function mount(ctx, { query = {} }) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view, heading } = ctx.panel("feedback-new");
  let lon = Number.parseFloat(query.lon);
  let lat = Number.parseFloat(query.lat);
  let parcelKey = /^\d{12}$/.test(query.parcel ?? "") ? query.parcel : null;
  const placed = Number.isFinite(lon) && Number.isFinite(lat);
  const photos = []; // { file, url, place }
  let pin = placed ? ctx.pin([lon, lat]) : null;
  let gone = false;
  let myKey = null;
  let known = [];

  const box = el("form", undefined, "account-form feedback-form");
  box.noValidate = true;
  const title = heading(t("new.title"));
  const where = el("p", "", "muted");
  where.id = "feedback-place";
  const showPlace = () => {
    where.textContent = [t("new.place", { lat: lat.toFixed(5), lon: lon.toFixed(5) }),
      parcelKey ? t("new.parcel", { key: parcelKey }) : ""].filter(Boolean).join(" · ");
  };
  if (!placed) {
    box.append(title, el("p", t("new.no_place")));
    view.replaceChildren(box);
    title.focus({ preventScroll: true });
    return () => { panel.remove(); };
  }
  showPlace();

  function field(text, control, id) {
    const wrap = el("div", undefined, "field");
    const label = el("label", text);
    control.id = id;
    label.htmlFor = id;
    const error = el("span", "", "field-error");
    error.id = `${id}-error`;
    error.setAttribute("aria-live", "polite");
    control.setAttribute("aria-describedby", error.id);
    wrap.append(label, control, error);
    return { wrap, control, error };
  }

  const category = field(t("new.category"), el("select"), "feedback-category");
  const description = field(t("new.description"), el("textarea"), "feedback-description");
  description.control.maxLength = 4000;
  description.control.rows = 4;

  // Photos: the camera, or the gallery (several at once).
  const photoBox = el("fieldset", undefined, "feedback-photos");
  photoBox.append(el("legend", t("new.photos", { max: MAX_PHOTOS })));
  const list = el("ul", undefined, "feedback-thumbs");
  const photoError = el("p", "", "field-error");
  photoError.id = "feedback-photos-error";
  const picker = (text, id, extra) => {
    const label = el("label", text, "button-like");
    const input = el("input");
    Object.assign(input, { type: "file", accept: "image/*", id, hidden: true, ...extra });
    if (extra.capture) input.setAttribute("capture", extra.capture);
    label.append(input);
    input.addEventListener("change", () => { add([...input.files]); input.value = ""; });
    return label;
  };
  photoBox.append(picker(t("new.camera"), "feedback-camera", { capture: "environment" }),
    picker(t("new.gallery"), "feedback-gallery", { multiple: true }), list, photoError);

  async function add(files) {
    photoError.textContent = "";
    for (const file of files) {
      if (photos.length >= MAX_PHOTOS) {
        photoError.textContent = t("new.too_many", { max: MAX_PHOTOS });
        break;
      }
      const photo = { file, url: URL.createObjectURL(file), place: null };
      photos.push(photo);
      photo.place = await photoPlace(file).catch(() => null);
    }
    drawPhotos();
  }

  function drawPhotos() {
    list.replaceChildren(...photos.map((photo, i) => {
      const item = el("li");
      const img = el("img");
      img.src = photo.url;
      img.alt = `${i + 1}`;
      const remove = el("button", t("new.remove_photo"), "link");
      remove.type = "button";
      remove.addEventListener("click", () => {
        URL.revokeObjectURL(photo.url);
        photos.splice(photos.indexOf(photo), 1);
        drawPhotos();
      });
      item.append(img, remove);
      if (photo.place) {
        const use = el("button", t("new.use_photo_place"), "link");
        use.type = "button";
        use.addEventListener("click", () => {
          ({ lon, lat } = photo.place);
          parcelKey = query.parcel && parcelKey === query.parcel ? null : parcelKey;
          pin?.();
          pin = ctx.pin([lon, lat]);
          ctx.map.easeTo({ center: [lon, lat], duration: 300 });
          showPlace();
          checked = false;
          use.textContent = t("new.photo_place_used");
          use.disabled = true;
        });
        item.append(use);
      }
      return item;
    }));
  }

  // Whether the public may see the name: remembered for the next report.
  const consent = el("label", undefined, "consent");
  const showName = el("input");
  showName.type = "checkbox";
  showName.id = "feedback-show-name";
  showName.checked = localStorage.getItem(SHOW_NAME) === "1";
  consent.append(showName, el("span", t("new.show_name")));
  const privacy = el("p", t("new.privacy"), "purpose");
  privacy.id = "feedback-privacy";
  const nameInput = el("input");
  nameInput.type = "text";
  nameInput.autocomplete = "name";
  nameInput.maxLength = 120;
  const name = field(t("new.name"), nameInput, "feedback-name");
  const contactInput = el("input");
  contactInput.type = "text";
  contactInput.autocomplete = "tel";
  contactInput.inputMode = "email";
  const contact = field(t("new.contact"), contactInput, "feedback-contact");
  const signIn = el("button", t("new.or_sign_in"), "link");
  signIn.type = "button";
  signIn.addEventListener("click", () => ctx.router.go("#/account"));
  const note = el("p", "", "form-message");
  note.id = "feedback-note";
  note.setAttribute("role", "alert");
  const send = el("button", t("new.send"));
  send.type = "submit";
  const nearby = el("section", undefined, "feedback-nearby");
  nearby.hidden = true;
  const people = el("div");
  box.append(title, where, category.wrap, description.wrap, photoBox, consent, privacy,
    name.wrap, people, note, send, nearby);
  view.replaceChildren(box);
  title.focus({ preventScroll: true });

  let person = null;
  let checked = false; // the nearby reports were offered for this place and kind
  ctx.session.ready().then((who) => {
    if (gone) return;
    // Offline, the account is not known yet: one signed in on this phone is taken as signed in
    // (the report goes with the session when it is sent).
    person = who ?? (ctx.session.hinted() && !navigator.onLine ? {} : null);
    if (person) {
      nameInput.value = person.display_name ?? "";
      people.replaceChildren();
    } else {
      people.replaceChildren(contact.wrap, signIn);
    }
  });
  if (!ctx.session.hinted()) people.replaceChildren(contact.wrap, signIn);

  categories(ctx).then((found) => {
    if (gone) return;
    if (!found) { note.textContent = t("new.unavailable"); send.disabled = true; return; }
    known = found;
    const none = el("option", t("new.choose"));
    none.value = "";
    category.control.append(none, ...found.map((c) => {
      const option = el("option", lang === "en" ? c.name_en : c.name_vi);
      option.value = c.code;
      return option;
    }));
    const wanted = query.category ?? (parcelKey ? "construction-without-permit" : "");
    if (found.some((c) => c.code === wanted)) category.control.value = wanted;
  });
  category.control.addEventListener("change", () => { checked = false; category.error.textContent = ""; });

  // A report about a parcel (construction without a permit) takes the parcel at its place.
  async function parcelFor(code) {
    const kind = known.find((c) => c.code === code);
    if (!kind?.about_parcel || parcelKey) return true;
    const found = await ctx.api.get(`/api/parcels/at?lon=${lon}&lat=${lat}`);
    if (found.ok) { parcelKey = found.data.parcel.key; showPlace(); return true; }
    category.error.textContent = t("new.need_parcel");
    return false;
  }

  function problems(joining) {
    let bad = null;
    const mark = (f, text) => {
      f.error.textContent = text;
      f.control.setAttribute("aria-invalid", "true");
      bad ??= f.control;
    };
    for (const f of [category, description, name, contact]) {
      f.error.textContent = "";
      f.control.removeAttribute("aria-invalid");
    }
    if (!category.control.value) mark(category, t("new.need_category"));
    if (!joining && description.control.value.trim().length < 3) {
      mark(description, t("new.need_description"));
    }
    if (showName.checked && !nameInput.value.trim()) mark(name, t("new.need_name"));
    if (!person && !contactInput.value.trim()) mark(contact, t("new.need_contact"));
    bad?.focus();
    return Boolean(bad);
  }

  function body(joins) {
    const text = description.control.value.trim();
    const out = { category: category.control.value, description: text.length >= 3 ? text : null,
      lon, lat, show_name: showName.checked };
    if (parcelKey) out.parcel_key = parcelKey;
    if (nameInput.value.trim()) out.name = nameInput.value.trim();
    if (!person) {
      const said = contactInput.value.trim();
      if (said.includes("@")) out.email = said; else out.phone = said;
    }
    if (joins) out.joins = joins;
    return out;
  }

  // "Is it one of these?": the reports of the kind within 50 m, each with "me too".
  function offer(reports) {
    const items = el("ul", undefined, "issues feedback-nearby-list");
    for (const r of reports) {
      const item = el("li");
      item.dataset.report = String(r.id);
      const link = el("a", `#${r.id} · ${t(`fstatus.${r.status}`)}`);
      link.href = `#/feedback/${r.id}`;
      item.append(link, el("span", ` · ${t("new.distance", { m: Math.round(r.distance_m ?? 0) })}`));
      if (r.description) item.append(el("div", r.description));
      const join = el("button", t("new.me_too"));
      join.type = "button";
      join.addEventListener("click", () => deliver(r.id));
      item.append(join);
      items.append(item);
    }
    const fresh = el("button", t("new.not_these"));
    fresh.type = "button";
    fresh.addEventListener("click", () => deliver(null));
    nearby.replaceChildren(el("h3", t("new.nearby")), el("p", t("new.nearby_hint"), "muted"),
      items, fresh);
    nearby.hidden = false;
    nearby.querySelector("h3").tabIndex = -1;
    nearby.querySelector("h3").focus();
  }

  function explain(error) {
    const f = { category, description, phone: contact, email: contact, name,
      parcel_key: category }[error?.field];
    if (error?.field === "lat" || error?.field === "lon") return t("new.outside");
    if (f) { f.error.textContent = error.detail ?? ""; f.control.focus(); }
    return t("new.refused", { reason: error?.detail ?? t("feedback.failed") });
  }

  function waiting() {
    const box2 = el("div", undefined, "account-form");
    const h = heading(t("new.waiting"));
    const mineLink = el("a", t("new.mine"), "button-link");
    mineLink.href = "#/feedback/mine";
    box2.append(h, el("p", t("new.waiting_hint")), mineLink);
    box2.id = "feedback-waiting";
    view.replaceChildren(box2);
    h.focus({ preventScroll: true });
  }

  async function deliver(joins) {
    if (problems(Boolean(joins))) return;
    if (!(await parcelFor(category.control.value))) return;
    send.disabled = true;
    send.textContent = t("new.sending");
    localStorage.setItem(SHOW_NAME, showName.checked ? "1" : "0");
    const chosen = joins ? photos.slice(0, 1) : photos; // a "me too" takes one photo
    const blobs = await Promise.all(chosen.map(async (p) => ({
      name: p.file.name, blob: await sendable(p.file) })));
    const entry = prepare(body(joins), blobs);
    myKey = entry.key;
    await write(ctx, entry);
    if (gone || myKey === null) return;
    // Still here: neither sent nor refused (no network, or the server is busy).
    waiting();
  }

  function onFeedback({ detail }) {
    if (detail.entry.key !== myKey || gone) return;
    if (detail.kind === "sent") {
      myKey = null;
      ctx.router.go(`#/feedback/${detail.entry.sent.id}`, { replace: true });
    } else if (detail.kind === "refused") {
      myKey = null;
      if (!box.isConnected) view.replaceChildren(box);
      send.disabled = false;
      send.textContent = t("new.send");
      note.textContent = explain(detail.entry.error);
    }
  }
  window.addEventListener("civicmap:feedback", onFeedback);

  box.addEventListener("submit", async (event) => {
    event.preventDefault();
    note.textContent = "";
    // What a "me too" needs too (not a description): the nearby reports come first.
    if (problems(true)) return;
    if (!checked && navigator.onLine) {
      send.disabled = true;
      const found = await ctx.api.get(`/api/feedback/nearby?category=${encodeURIComponent(
        category.control.value)}&lon=${lon}&lat=${lat}`);
      send.disabled = false;
      if (gone) return;
      checked = true;
      if (found.ok && found.data.length) { offer(found.data); return; }
    }
    deliver(null);
  });
  device(); // made once, before the first report

  return () => {
    gone = true;
    window.removeEventListener("civicmap:feedback", onFeedback);
    for (const p of photos) URL.revokeObjectURL(p.url);
    pin?.();
    panel.remove();
  };
}
