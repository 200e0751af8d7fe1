// What the phone keeps of a citizen's reports: those written and not yet delivered (IndexedDB:
// the body, its Idempotency-Key made once when the report was written, the photos as blobs),
// and those it sent (localStorage: each report's id, and for an anonymous reporter the token
// that lets them add photos, answer, reopen and rate). The outbox delivers a report, then its
// photos, and forgets it only once all arrived: a report is never created twice (the server
// answers a replayed key as it answered the first) and a photo twice is the same row.
const DB = "civicmap-feedback";
const STORE = "outbox";
const MINE = "civicmap-feedback-mine";
const PENDING = "civicmap-feedback-pending"; // a hint: the shell loads this code only then
const DEVICE = "civicmap-device";

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

let opened = null;
function db() {
  opened ??= new Promise((done, fail) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => done(request.result);
    request.onerror = () => { opened = null; fail(request.error); };
  });
  return opened;
}

async function tx(mode, work) {
  const base = await db();
  return new Promise((done, fail) => {
    const t = base.transaction(STORE, mode);
    const answer = work(t.objectStore(STORE));
    t.oncomplete = () => done(answer?.result);
    t.onerror = () => fail(t.error);
  });
}

const put = (entry) => tx("readwrite", (s) => s.put(entry));
const drop = (key) => tx("readwrite", (s) => s.delete(key));
export const kept = () => tx("readonly", (s) => s.getAll()).then((all) =>
  (all ?? []).sort((a, b) => a.createdAt.localeCompare(b.createdAt)));

async function hint() {
  const waiting = (await kept()).filter((e) => e.state !== "refused").length;
  if (waiting) localStorage.setItem(PENDING, String(waiting));
  else localStorage.removeItem(PENDING);
}

// The reports this phone sent: [{ id, token, needsCode, joins, at }], newest first.
export function mine() {
  try { return JSON.parse(localStorage.getItem(MINE) || "[]"); } catch { return []; }
}
export function remember(id, facts) {
  const list = mine();
  const found = list.find((r) => r.id === id);
  if (found) Object.assign(found, facts);
  else list.unshift({ id, at: new Date().toISOString(), ...facts });
  localStorage.setItem(MINE, JSON.stringify(list.slice(0, 200)));
}
export const held = (id) => mine().find((r) => r.id === id) ?? null;

// The app's random id: the server's rate limit per device (never linked to a person).
export function device() {
  let id = localStorage.getItem(DEVICE);
  if (!id) { id = newKey(); localStorage.setItem(DEVICE, id); }
  return id;
}

function emit(kind, entry) {
  window.dispatchEvent(new CustomEvent("civicmap:feedback", { detail: { kind, entry } }));
}

// A photo of a sent report: with the report's token (anonymous) or the session's CSRF token.
async function sendPhoto(ctx, reportId, token, photo) {
  const form = new FormData();
  form.append("file", photo.blob, photo.name || "anh.jpg");
  const headers = {};
  if (token) headers["X-Report-Token"] = token;
  else if (ctx.api.csrf()) headers["X-CSRF-Token"] = ctx.api.csrf();
  try {
    const res = await fetch(`/api/feedback/${reportId}/photos`, {
      method: "POST", headers, body: form, credentials: "same-origin" });
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    return { ok: res.ok, status: res.status, data };
  } catch {
    return { ok: false, status: 0, offline: true };
  }
}

// Whether the server may answer this later (no network, too busy, or down for a moment).
const later = (status) => status === 0 || status === 429 || status >= 500;

// Delivers one kept report as far as it goes now; true when nothing of it is left to send.
async function deliver(ctx, entry) {
  if (!entry.sent) {
    if (ctx.session.hinted()) await ctx.session.ready();
    const result = await ctx.api.request("POST", "/api/feedback", { body: entry.body,
      idempotencyKey: entry.key, headers: { "X-Device-Id": device() } });
    if (later(result.status)) return false;
    if (!result.ok) {
      entry.state = "refused";
      entry.error = result.error;
      await put(entry);
      emit("refused", entry);
      return false;
    }
    entry.sent = { id: result.data.id, needsCode: result.data.needs_code,
      token: result.data.upload_token ?? null };
    remember(entry.sent.id, { token: entry.sent.token, needsCode: entry.sent.needsCode,
      joins: entry.body.joins ?? null });
    entry.state = "photos";
    await put(entry);
    emit("report", entry);
  }
  for (const photo of entry.photos) {
    if (photo.done) continue;
    const result = await sendPhoto(ctx, entry.sent.id, entry.sent.token, photo);
    if (later(result.status)) { await put(entry); return false; }
    photo.done = true;
    photo.refused = result.ok ? null : (result.data?.detail ?? String(result.status));
    photo.blob = null;
    await put(entry);
  }
  await drop(entry.key);
  emit("sent", entry);
  return true;
}

let flushing = null;
// Sends every kept report, oldest first (one run at a time: the `online` event, the app's
// start and the screen that wrote it may all ask at once).
export function flush(ctx) {
  flushing ??= (async () => {
    const delivered = [];
    try {
      for (const entry of await kept()) {
        if (entry.state === "refused") continue;
        if (await deliver(ctx, entry)) delivered.push(entry);
        else if (entry.state !== "refused") break; // no network: the rest wait too
      }
    } finally {
      await hint();
    }
    return delivered;
  })().finally(() => { flushing = null; });
  return flushing;
}

// A report as written, its Idempotency-Key made now, once: photos are [{ name, blob }].
export const prepare = (body, photos) => ({ key: newKey(), body,
  createdAt: new Date().toISOString(), state: "waiting",
  photos: photos.map((p) => ({ name: p.name, blob: p.blob, done: false })) });

// A prepared report kept on the phone first, then sent if the network allows.
export async function write(ctx, entry) {
  await put(entry);
  localStorage.setItem(PENDING, "1");
  emit("kept", entry);
  if (flushing) await flushing.catch(() => {}); // a run begun before this entry was kept
  await flush(ctx);
  return entry;
}

export const discard = async (key) => { await drop(key); await hint(); };
export const pending = () => Boolean(localStorage.getItem(PENDING));
