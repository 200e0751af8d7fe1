// #/planner — the planner's screens: upload a file with a progress bar, answer the doctors'
// questions, read the validation report (as a list and on the map), see what changed against
// the published version, publish, and roll back to an earlier version.
const STRINGS = {
  vi: {
    "planner.button": "Dữ liệu quy hoạch",
    "planner.title": "Tải lên lớp dữ liệu",
    "planner.layer": "Lớp dữ liệu",
    "planner.file": "Tệp (shapefile nén .zip, GeoPackage, GeoJSON, DXF, KML)",
    "planner.publish_when_valid": "Xuất bản ngay khi hợp lệ",
    "planner.upload": "Tải lên",
    "planner.progress": "Tiến độ",
    "planner.working": "Đang xử lý tệp",
    "planner.rows": "đối tượng",
    "planner.stage.queued": "Đang chờ",
    "planner.stage.reading": "Đang đọc",
    "planner.stage.loading": "Đang nạp",
    "planner.stage.validating": "Đang kiểm tra hình học",
    "planner.stage.indexing": "Đang lập chỉ mục",
    "planner.stage.comparing": "Đang so sánh với bản đã xuất bản",
    "planner.stage.publishing": "Đang xuất bản",
    "planner.stage.done": "Xong",
    "planner.stage.failed": "Không thành công",
    "planner.stage.needs_input": "Cần bạn trả lời",
    "planner.answer": "Trả lời",
    "planner.question.crs": "Hệ tọa độ của tệp",
    "planner.question.encoding": "Bảng mã chữ",
    "planner.question.layer": "Chọn lớp trong tệp",
    "planner.question.fields": "Trường dữ liệu của tệp",
    "planner.question.plans": "Đồ án quy hoạch theo số quyết định",
    "planner.field_required": "{field} (bắt buộc)",
    "planner.field_optional": "{field} (không bắt buộc)",
    "planner.decision": "Quyết định {decision}",
    "planner.none_of_these": "Không có trường nào",
    "planner.samples": "ví dụ",
    "planner.fields": "Trường của tệp → trường của lớp",
    "planner.outcome.noted": "ghi chú",
    "planner.report": "Báo cáo kiểm tra",
    "planner.summary": "{features} đối tượng · {repaired} đã sửa · {rejected} bị loại",
    "planner.changes": "So với bản đang xuất bản: {added} thêm · {removed} bớt · {changed} thay đổi",
    "planner.issues": "Đối tượng có lỗi",
    "planner.outcome.repaired": "đã sửa",
    "planner.outcome.rejected": "bị loại",
    "planner.status.draft": "Bản nháp",
    "planner.status.needs_input": "Chờ trả lời",
    "planner.status.validated": "Đã kiểm tra, sẵn sàng xuất bản",
    "planner.status.rejected": "Bị từ chối: sửa tệp rồi tải lại",
    "planner.status.published": "Đang xuất bản",
    "planner.status.superseded": "Bản cũ",
    "planner.publish": "Xuất bản",
    "planner.rollback": "Khôi phục bản này",
    "planner.rollback_to": "Khôi phục v{number}",
    "planner.published": "Đã xuất bản phiên bản {number}",
    "planner.rolled_back": "Đã khôi phục phiên bản {number}",
    "planner.versions": "Các phiên bản",
    "planner.open": "Xem",
    "planner.failed": "Không thực hiện được. Vui lòng thử lại.",
    "planner.back": "Quay lại",
  },
  en: {
    "planner.button": "Planning data",
    "planner.title": "Upload a layer",
    "planner.layer": "Layer",
    "planner.file": "File (zipped shapefile, GeoPackage, GeoJSON, DXF, KML)",
    "planner.publish_when_valid": "Publish as soon as it is valid",
    "planner.upload": "Upload",
    "planner.progress": "Progress",
    "planner.working": "Processing the file",
    "planner.rows": "features",
    "planner.stage.queued": "Waiting",
    "planner.stage.reading": "Reading",
    "planner.stage.loading": "Loading",
    "planner.stage.validating": "Checking geometries",
    "planner.stage.indexing": "Indexing",
    "planner.stage.comparing": "Comparing with the published version",
    "planner.stage.publishing": "Publishing",
    "planner.stage.done": "Done",
    "planner.stage.failed": "Failed",
    "planner.stage.needs_input": "Your answer is needed",
    "planner.answer": "Answer",
    "planner.question.crs": "Coordinate system of the file",
    "planner.question.encoding": "Text encoding",
    "planner.question.layer": "Layer of the file",
    "planner.question.fields": "Fields of the file",
    "planner.question.plans": "Zoning plans by decision number",
    "planner.field_required": "{field} (required)",
    "planner.field_optional": "{field} (optional)",
    "planner.decision": "Decision {decision}",
    "planner.none_of_these": "None of these",
    "planner.samples": "e.g.",
    "planner.fields": "File field → layer field",
    "planner.outcome.noted": "noted",
    "planner.report": "Validation report",
    "planner.summary": "{features} features · {repaired} repaired · {rejected} rejected",
    "planner.changes": "Against the published version: {added} added · {removed} removed · {changed} changed",
    "planner.issues": "Features with problems",
    "planner.outcome.repaired": "repaired",
    "planner.outcome.rejected": "rejected",
    "planner.status.draft": "Draft",
    "planner.status.needs_input": "Waiting for an answer",
    "planner.status.validated": "Validated, ready to publish",
    "planner.status.rejected": "Rejected: fix the file and upload again",
    "planner.status.published": "Published",
    "planner.status.superseded": "Earlier version",
    "planner.publish": "Publish",
    "planner.rollback": "Restore this version",
    "planner.rollback_to": "Restore v{number}",
    "planner.published": "Version {number} published",
    "planner.rolled_back": "Version {number} restored",
    "planner.versions": "Versions",
    "planner.open": "Open",
    "planner.failed": "That did not work. Please try again.",
    "planner.back": "Back",
  },
};

export function mount(ctx) {
  const { el, map, status } = ctx;
  const t = ctx.translate(STRINGS);
  const panel = document.getElementById("planner");
  const button = document.getElementById("planner-button");
  const view = panel.querySelector(".planner-view");
  let layers = [];
  let gone = false;
  const api = (method, path, body) => ctx.api.request(method, path, { body });

  function heading(key) {
    const h = el("h2", t(key));
    h.id = "planner-title";
    h.tabIndex = -1;
    return h;
  }

  function show(...nodes) {
    if (gone) return;
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
    // The TileJSON carries the layers' versions (the style inlines it), read fresh on each
    // request (tiles/service.py): its tile URLs now name the new version, so the map fetches
    // the new tiles.
    const res = await ctx.api.get("/tiles/basemap.json", { cache: "no-store" });
    if (res.ok && !gone) map.getSource("district")?.setTiles(res.data.tiles);
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
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!file.files.length) return;
      const body = new FormData();
      body.append("file", file.files[0]);
      if (publishBox.checked) body.append("publish", "true");
      progress.hidden = false;
      submit.disabled = true;
      const res = await ctx.api.upload(`/api/layers/${encodeURIComponent(select.value)}/uploads`,
        body, (share) => { progress.value = 50 * share; });
      submit.disabled = false;
      if (res.status !== 202) {
        message.textContent = res.error?.detail ?? t("planner.failed");
        return;
      }
      follow(res.data.id, select.value);
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
      if (!res.ok) { stage.textContent = t("planner.failed"); return; }
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
    const back = el("button", t("planner.back"), "link");
    back.type = "button";
    back.addEventListener("click", uploadForm);
    return back;
  }

  // The field doctor's and the plans' questions: a select per field (or decision), its
  // candidates best first with why and their sample values beside them.
  function askEach(job, layerId) {
    const q = job.question;
    const fields = q.kind === "fields";
    const form = el("form", undefined, "account-form field-doctor");
    form.append(heading(`planner.question.${q.kind}`), el("p", q.prompt, "muted"));
    const selects = [];
    q.candidates.forEach((entry, i) => {
      const name = fields ? entry.field : entry.decision;
      const id = `planner-choice-${i}`;
      const row = el("div", undefined, "field-choice");
      const label = el("label", fields
        ? t(entry.required ? "planner.field_required" : "planner.field_optional", { field: name })
        : t("planner.decision", { decision: name }));
      label.htmlFor = id;
      const select = el("select");
      select.id = id;
      select.dataset.key = name;
      const samples = el("p", "", "muted samples");
      const options = entry.candidates.map((c) => ({
        value: c.value,
        text: fields ? `${c.value} (${Math.round(c.score * 100)}%)` : c.label,
        detail: fields ? `${c.why.join("; ")} — ${t("planner.samples")}: ${c.samples.join(" · ")}` : "",
      }));
      if (fields && entry.none_allowed) {
        options.push({ value: "", text: t("planner.none_of_these"), detail: "" });
      }
      for (const o of options) {
        const option = el("option", o.text);
        option.value = o.value;
        select.append(option);
      }
      const describe = () => {
        samples.textContent = options.find((o) => o.value === select.value)?.detail ?? "";
      };
      select.addEventListener("change", describe);
      describe();
      row.append(label, select, samples);
      form.append(row);
      selects.push(select);
    });
    const submit = el("button", t("planner.answer"));
    submit.type = "submit";
    form.append(submit, backButton());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = Object.fromEntries(selects.map((s) => [s.dataset.key, s.value]));
      const res = await api("POST", `/api/jobs/${job.id}/answer`,
        fields ? { map: chosen } : { plans: chosen });
      if (res.ok) follow(job.id, layerId);
    });
    show(form);
  }

  function ask(job, layerId) {
    const q = job.question;
    if (q.kind === "fields" || q.kind === "plans") { askEach(job, layerId); return; }
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
    if (r.fields && Object.keys(r.fields).length) {
      const list = el("ul", undefined, "field-map");
      for (const [target, f] of Object.entries(r.fields)) {
        list.append(el("li", `${f.source} → ${target} (${f.how})`));
      }
      box.append(el("h3", t("planner.fields")), list);
    }
    if (r.issues?.length) {
      const list = el("ul", undefined, "issues");
      for (const issue of r.issues.slice(0, 200)) {
        list.append(el("li", `${issue.feature}: ${issue.problem} — ${t(`planner.outcome.${issue.outcome}`)}`,
          issue.outcome));
      }
      box.append(el("h3", t("planner.issues")), list);
    }
    const issues = (await ctx.api.get(`/api/layers/${layerId}/versions/${number}/issues.geojson`)).data;
    const changes = (await ctx.api.get(`/api/layers/${layerId}/versions/${number}/changes.geojson`)).data;
    if (gone || !issues || !changes) return;
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

  // If-Match: what is published is the version as the planner read it (else 412, or 428).
  async function doPublish(layerId, number, etag) {
    const res = await ctx.api.request("POST", `/api/layers/${layerId}/versions/${number}/publish`,
      { ifMatch: etag });
    if (!res.ok) {
      status.textContent = res.error?.detail ?? t("planner.failed");
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
        back.addEventListener("click", () => doPublish(layerId, v.number, v.etag));
        item.append(back);
      }
      list.append(item);
    }
    wrap.append(list);
    return wrap;
  }

  const close = panel.querySelector(".planner-close");
  const onClose = () => { ctx.router.close(); button.focus(); };
  close.addEventListener("click", onClose);
  panel.hidden = false;
  button.setAttribute("aria-expanded", "true");
  uploadForm();
  // The report's overlays stay on the map after the panel closes (the planner looks at them).
  return () => {
    gone = true;
    close.removeEventListener("click", onClose);
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    view.replaceChildren();
  };
}
