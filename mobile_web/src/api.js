// The one way views talk to the server. Every answer has one shape: { ok, status, data, etag,
// error }, where error is { status, detail, field } (the server answers {"detail", "field"};
// a validation error's field is the first one it names; status 0 and offline: true when the
// network is down). Writes carry the CSRF token of the signed-in person; the ETag of a GET is
// remembered per path and sent back as If-Match on a write that asks for it; submit() gives
// each submission one fresh Idempotency-Key, kept across its retries and in the offline queue.
const QUEUE = "civicmap-queue";
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function errorOf(status, data) {
  const detail = typeof data?.detail === "string" ? data.detail : null;
  const field = data?.field ?? (Array.isArray(data?.detail) ? data.detail[0]?.loc?.at(-1) : null);
  return { status, detail, field: field ?? null };
}

export function createApi() {
  const etags = new Map();
  let csrf = "";
  const sleep = (ms) => new Promise((done) => { setTimeout(done, ms); });

  // One attempt. options: body (JSON-able or FormData), ifMatch (true: the remembered ETag of
  // this path; or an ETag), idempotencyKey, headers, cache (fetch's).
  async function request(method, path, options = {}) {
    const { body, ifMatch, idempotencyKey, headers = {}, cache } = options;
    const sent = { ...headers };
    const json = body !== undefined && !(body instanceof FormData);
    if (json) sent["Content-Type"] = "application/json";
    if (WRITES.has(method)) {
      if (csrf) sent["X-CSRF-Token"] = csrf;
      const tag = ifMatch === true ? etags.get(path) : ifMatch;
      if (tag) sent["If-Match"] = tag;
      if (idempotencyKey) sent["Idempotency-Key"] = idempotencyKey;
    }
    let res;
    try {
      res = await fetch(path, { method, headers: sent, credentials: "same-origin", cache,
        body: json ? JSON.stringify(body) : body });
    } catch {
      return { ok: false, status: 0, data: null, etag: null,
        error: { status: 0, detail: null, field: null, offline: true } };
    }
    const etag = res.headers.get("ETag");
    if (etag) etags.set(path, etag);
    const text = res.status === 204 ? "" : await res.text().catch(() => "");
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    return { ok: res.ok, status: res.status, data, etag,
      error: res.ok ? null : errorOf(res.status, data) };
  }

  const get = (path, options) => request("GET", path, options);

  // A submission: one fresh Idempotency-Key, the same on each retry while the network is down
  // (retries, 0.5 s apart). Still down: with an `offline` hook, the write is queued (JSON
  // bodies only) and the hook is called with the queued entry.
  async function submit(method, path, body, { retries = 2, offline, ifMatch, key } = {}) {
    const idempotencyKey = key ?? newKey();
    const tag = ifMatch === true ? etags.get(path) : ifMatch;
    let result;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt) await sleep(500);
      result = await request(method, path, { body, ifMatch: tag, idempotencyKey });
      if (!result.error?.offline) return result;
    }
    if (offline && !(body instanceof FormData)) {
      const entry = { id: newKey(), method, path, body, ifMatch: tag ?? null, idempotencyKey,
        queuedAt: new Date().toISOString() };
      save([...queued(), entry]);
      offline(entry);
      return { ...result, queued: entry };
    }
    return result;
  }

  function queued() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch { return []; }
  }
  function save(entries) {
    if (entries.length) localStorage.setItem(QUEUE, JSON.stringify(entries));
    else localStorage.removeItem(QUEUE);
  }

  // Sends the queued writes, oldest first, each with its own Idempotency-Key (the server
  // answers a replay as it answered the first): stops at the first that still finds no network.
  let flushing = null;
  function flush() {
    flushing ??= (async () => {
      const done = [];
      for (const entry of queued()) {
        const result = await request(entry.method, entry.path, { body: entry.body,
          ifMatch: entry.ifMatch ?? undefined, idempotencyKey: entry.idempotencyKey });
        if (result.error?.offline) break;
        save(queued().filter((e) => e.id !== entry.id));
        done.push({ entry, result });
      }
      if (done.length) window.dispatchEvent(new CustomEvent("civicmap:sent", { detail: done }));
      return done;
    })().finally(() => { flushing = null; });
    return flushing;
  }
  window.addEventListener("online", flush);

  // An upload with progress (XHR: fetch reports none), same headers and answer shape.
  function upload(path, form, onProgress = () => {}) {
    return new Promise((done) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Idempotency-Key", newKey());
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      });
      xhr.addEventListener("load", () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText || "null"); } catch { data = null; }
        const ok = xhr.status >= 200 && xhr.status < 300;
        done({ ok, status: xhr.status, data, etag: xhr.getResponseHeader("ETag"),
          error: ok ? null : errorOf(xhr.status, data) });
      });
      xhr.addEventListener("error", () => done({ ok: false, status: 0, data: null, etag: null,
        error: { status: 0, detail: null, field: null, offline: true } }));
      xhr.send(form);
    });
  }

  return {
    request, get, submit, upload, flush, queued,
    etag: (path) => etags.get(path),
    setCsrf: (token) => { csrf = token || ""; },
    csrf: () => csrf,
  };
}
