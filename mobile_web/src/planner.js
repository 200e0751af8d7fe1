// The planner's screens: upload a file with a progress bar, answer the doctors' questions,
// read the validation report (as a list and on the map), see what changed against the
// published version, publish, and roll back to an earlier version.
export function plannerScreens({ t, el, map, status, panel, button, csrf }) {
  const view = panel.querySelector(".planner-view");
  let layers = [];

  async function api(method, path, body, extra = {}) {
    const res = await fetch(path, { method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), ...extra },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await res.json().catch(() => null);
    return { ok: res.ok, status: res.status, data };
  }

  function heading(key) {
    const h = el("h2", t(key));
    h.id = "planner-title";
    h.tabIndex = -1;
    return h;
  }

  function show(...nodes) {
    view.replaceChildren(...nodes);
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    view.querySelector("h2")?.focus({ preventScroll: true });
  }

  function overlay(id, data, paint) {
    const source = map.getSource(id);
    if (source) source.setData(data);
    else {
      map.addSource(id, { type: "geojson", data });
      map.addLayer({ id: `${id}-fill`, type: "fill", source: id, paint: paint.fill });
      map.addLayer({ id: `${id}-line`, type: "line", source: id, paint: paint.line });
    }
  }

  async function refreshTiles() {
    // The TileJSON carries the layers' versions (the style inlines it): its tile URLs now
    // name the new version, so the map fetches the new tiles.
    try {
      const res = await fetch("/tiles/basemap.json", { cache: "no-store" });
      if (res.ok) map.getSource("district")?.setTiles((await res.json()).tiles);
    } catch {
      // offline: the map keeps its tiles until the next load
    }
  }

  async function uploadForm() {
    const res = await api("GET", "/api/layers");
    layers = res.ok ? res.data : [];
    const form = el("form", undefined, "account-form");
    const layerLabel = el("label", t("planner.layer"));
    layerLabel.htmlFor = "planner-layer";
    const select = el("select");
    select.id = "planner-layer";
    select.name = "layer";
    for (const layer of layers) {
      const option = el("option", `${layer.title_vi} (${layer.id})`);
      option.value = layer.id;
      select.append(option);
    }
    const fileLabel = el("label", t("planner.file"));
    fileLabel.htmlFor = "planner-file";
    const file = el("input");
    Object.assign(file, { id: "planner-file", type: "file", required: true,
      accept: ".zip,.gpkg,.geojson,.json,.dxf,.kml,.kmz" });
    const publishBox = el("input");
    Object.assign(publishBox, { id: "planner-publish", type: "checkbox" });
    const publishLabel = el("label", t("planner.publish_when_valid"));
    publishLabel.htmlFor = "planner-publish";
    const consent = el("p", undefined, "consent");
    consent.append(publishBox, publishLabel);
    const progress = el("progress");
    progress.max = 100;
    progress.value = 0;
    progress.hidden = true;
    progress.setAttribute("aria-label", t("planner.progress"));
    const message = el("p", "", "form-message");
    message.setAttribute("role", "alert");
    const submit = el("button", t("planner.upload"));
    submit.type = "submit";
    const p1 = el("p", undefined, "field");
    p1.append(layerLabel, select);
    const p2 = el("p", undefined, "field");
    p2.append(fileLabel, file);
    form.append(heading("planner.title"), p1, p2, consent, progress, message, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!file.files.length) return;
      const body = new FormData();
      body.append("file", file.files[0]);
      if (publishBox.checked) body.append("publish", "true");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api/layers/${encodeURIComponent(select.value)}/uploads`);
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      progress.hidden = false;
      submit.disabled = true;
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = 50 * e.loaded / e.total; };
      xhr.onload = () => {
        submit.disabled = false;
        const data = JSON.parse(xhr.responseText || "null");
        if (xhr.status !== 202) {
          message.textContent = data?.detail ?? t("account.failed");
          return;
        }
        follow(data.id, select.value);
      };
      xhr.onerror = () => { submit.disabled = false; message.textContent = t("account.failed"); };
      xhr.send(body);
    });
    show(form);
  }

  function follow(jobId, layerId) {
    const box = el("div", undefined, "account-form");
    const stage = el("p", t("planner.stage.queued"));
    stage.setAttribute("role", "status");
    const bar = el("progress");
    bar.max = 100;
    bar.setAttribute("aria-label", t("planner.progress"));
    box.append(heading("planner.working"), bar, stage);
    show(box);
    const poll = async () => {
      const res = await api("GET", `/api/jobs/${jobId}`);
      if (!res.ok) { stage.textContent = t("account.failed"); return; }
      const job = res.data;
      bar.value = job.progress;
      stage.textContent = `${t(`planner.stage.${job.stage}`)} · ${job.rows.toLocaleString()} ${t("planner.rows")}`;
      if (job.status === "queued" || job.status === "running") { setTimeout(poll, 400); return; }
      if (job.status === "needs_input") { ask(job, layerId); return; }
      if (job.status === "failed") {
        const failed = el("p", job.message, "form-message");
        failed.setAttribute("role", "alert");
        box.append(failed, backButton());
        return;
      }
      version(layerId, job.version);
    };
    poll();
  }

  function backButton() {
    const back = el("button", t("account.back"), "link");
    back.type = "button";
    back.addEventListener("click", uploadForm);
    return back;
  }

  function ask(job, layerId) {
    const q = job.question;
    const form = el("form", undefined, "account-form");
    const fieldset = el("fieldset");
    fieldset.append(el("legend", q.prompt));
    q.candidates.forEach((c, i) => {
      const id = `planner-answer-${i}`;
      const row = el("p", undefined, "consent");
      const radio = el("input");
      Object.assign(radio, { type: "radio", name: "answer", value: c.value, id, checked: i === 0 });
      const text = c.samples ? `${c.label}: ${c.samples.join(" · ")}`
        : c.where ? `${c.label} — ${c.where}` : c.value;
      const label = el("label", text);
      label.htmlFor = id;
      row.append(radio, label);
      fieldset.append(row);
    });
    const submit = el("button", t("planner.answer"));
    submit.type = "submit";
    form.append(heading(`planner.question.${q.kind}`), fieldset, submit, backButton());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = new FormData(form).get("answer");
      const res = await api("POST", `/api/jobs/${job.id}/answer`, { [q.kind]: value });
      if (res.ok) follow(job.id, layerId);
    });
    show(form);
  }

  async function version(layerId, number) {
    const res = await api("GET", `/api/layers/${layerId}/versions/${number}`);
    if (!res.ok) return;
    const v = res.data;
    const box = el("div", undefined, "account-form");
    const r = v.report;
    const c = v.changes;
    box.append(heading("planner.report"),
      el("p", t(`planner.status.${v.status}`), `version-status ${v.status}`),
      el("p", t("planner.summary", { features: r.features ?? 0, repaired: r.repaired ?? 0,
        rejected: r.rejected ?? 0 })),
      el("p", t("planner.changes", { added: c.added ?? 0, removed: c.removed ?? 0,
        changed: c.changed ?? 0 })));
    if (r.issues?.length) {
      const list = el("ul", undefined, "issues");
      for (const issue of r.issues.slice(0, 200)) {
        list.append(el("li", `${issue.feature}: ${issue.problem} — ${t(`planner.outcome.${issue.outcome}`)}`,
          issue.outcome));
      }
      box.append(el("h3", t("planner.issues")), list);
    }
    const issues = await fetch(`/api/layers/${layerId}/versions/${number}/issues.geojson`,
      { credentials: "same-origin" }).then((x) => x.json());
    const changes = await fetch(`/api/layers/${layerId}/versions/${number}/changes.geojson`,
      { credentials: "same-origin" }).then((x) => x.json());
    overlay("planner-changes", changes, { fill: { "fill-color": "#F2A900", "fill-opacity": 0.25 },
      line: { "line-color": "#B36B00", "line-width": 2 } });
    overlay("planner-issues", issues, { fill: { "fill-color": "#D7191C", "fill-opacity": 0.35 },
      line: { "line-color": "#D7191C", "line-width": 3 } });
    const area = changes.features[0]?.geometry;
    if (area) {
      const xs = [];
      const ys = [];
      const walk = (co) => (typeof co[0] === "number" ? (xs.push(co[0]), ys.push(co[1])) : co.forEach(walk));
      walk(area.coordinates);
      map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]],
        { padding: 60, maxZoom: 17, duration: 0 });
    }
    if (v.status === "validated" || v.status === "superseded") {
      const publish = el("button", t(v.status === "validated" ? "planner.publish" : "planner.rollback"));
      publish.type = "button";
      publish.addEventListener("click", () => doPublish(layerId, number, v.etag));
      box.append(publish);
    }
    box.append(await versionList(layerId), backButton());
    show(box);
  }

  async function doPublish(layerId, number, etag) {
    // If-Match: what is published is the version as the planner read it.
    const res = await api("POST", `/api/layers/${layerId}/versions/${number}/publish`,
      undefined, { "If-Match": etag });
    if (!res.ok) {
      status.textContent = res.data?.detail ?? t("account.failed");
      return;
    }
    refreshTiles();
    status.textContent = t(res.data.action === "rollback" ? "planner.rolled_back" : "planner.published",
      { number });
    version(layerId, number);
  }

  async function versionList(layerId) {
    const res = await api("GET", `/api/layers/${layerId}/versions`);
    const wrap = el("div");
    wrap.append(el("h3", t("planner.versions")));
    const list = el("ul", undefined, "versions");
    for (const v of res.ok ? res.data : []) {
      const item = el("li");
      item.append(el("span", `v${v.number} · ${t(`planner.status.${v.status}`)} · ${v.source_name ?? ""}`));
      const open = el("button", t("planner.open"), "link");
      open.type = "button";
      open.addEventListener("click", () => version(layerId, v.number));
      item.append(open);
      if (v.status === "superseded") {
        const back = el("button", t("planner.rollback_to", { number: v.number }), "link");
        back.type = "button";
        back.addEventListener("click", () => doPublish(layerId, v.number));
        item.append(back);
      }
      list.append(item);
    }
    wrap.append(list);
    return wrap;
  }

  button.addEventListener("click", () => {
    if (!panel.hidden) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    uploadForm();
  });
  panel.querySelector(".planner-close").addEventListener("click", () => {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
  return { uploadForm };
}
