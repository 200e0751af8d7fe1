// A dossier's documents (thành phần hồ sơ): each one its procedure asks for, the files attached
// to it, and, while the dossier is a draft or asked for a supplement, a way to attach one: a
// file, or a photo taken there and then (the phone's camera opens). Uploads go with fetch and
// FormData; the server judges each file by its content and says which document it refused.
const STRINGS = {
  vi: {
    "documents.title": "Thành phần hồ sơ",
    "documents.optional": "không bắt buộc",
    "documents.missing": "Chưa có tệp",
    "documents.none": "Không có tệp",
    "documents.choose": "Chọn tệp ({types}, tối đa {mb} MB)",
    "documents.photo": "Chụp ảnh",
    "documents.sending": "Đang tải lên {name}…",
    "documents.sent": "Đã tải lên {name}",
    "documents.remove": "Xoá {name}",
    "documents.too_large": "Tệp lớn hơn {mb} MB",
    "documents.offline": "Đang ngoại tuyến: hãy tải tệp lên khi có mạng",
    "documents.failed": "Không tải lên được. Vui lòng thử lại.",
    "documents.unavailable": "Không tải được danh sách tệp",
  },
  en: {
    "documents.title": "Documents",
    "documents.optional": "optional",
    "documents.missing": "No file yet",
    "documents.none": "No file",
    "documents.choose": "Choose a file ({types}, at most {mb} MB)",
    "documents.photo": "Take a photo",
    "documents.sending": "Uploading {name}…",
    "documents.sent": "{name} uploaded",
    "documents.remove": "Remove {name}",
    "documents.too_large": "The file is larger than {mb} MB",
    "documents.offline": "Offline: upload the file when the network is back",
    "documents.failed": "The upload did not work. Please try again.",
    "documents.unavailable": "The files could not be loaded",
  },
};
const OPEN = new Set(["draft", "supplement_requested"]);
const EXTENSIONS = { "application/pdf": [".pdf"], "image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"] };
const LABELS = { "application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG" };

export function renderDocuments(ctx, container, dossier, procedure) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const base = `/api/dossiers/${encodeURIComponent(dossier.id)}/documents`;
  const open = OPEN.has(dossier.status);
  const name = (spec) => (lang === "en" ? spec.en : spec.vi);
  const size = (bytes) => (bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(1)} MB`
    : `${Math.max(1, Math.round(bytes / 1024))} KB`);
  let attached = [];

  function fileInput(spec, label, types, camera, note) {
    const input = el("input");
    input.type = "file";
    input.accept = types.flatMap((type) => [type, ...(EXTENSIONS[type] ?? [])]).join(",");
    if (camera) input.setAttribute("capture", "environment");
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      input.value = "";
      if (file) send(spec, file, note, input);
    });
    const wrap = el("label", label, "field");
    wrap.append(input);
    return wrap;
  }

  async function send(spec, file, note, input) {
    if (file.size > spec.max_mb * 1024 ** 2) {
      note.textContent = t("documents.too_large", { mb: spec.max_mb });
      return;
    }
    const form = new FormData();
    form.append("key", spec.key);
    form.append("file", file, file.name);
    input.disabled = true;
    ctx.status.textContent = t("documents.sending", { name: file.name });
    const result = await ctx.api.request("POST", base, { body: form });
    input.disabled = false;
    if (result.ok) {
      ctx.status.textContent = t("documents.sent", { name: file.name });
      await load();
      return;
    }
    ctx.status.textContent = "";
    note.textContent = result.error.offline ? t("documents.offline")
      : result.error.detail ?? t("documents.failed");
  }

  function attachedFile(file) {
    const row = el("li");
    const link = el("a", file.file_name);
    link.href = `${base}/${file.id}`;
    link.setAttribute("download", file.file_name);
    row.append(link, el("span", ` · ${size(file.size_bytes)}`, "muted"));
    if (dossier.status === "draft") {
      const remove = el("button", "×", "link");
      remove.type = "button";
      remove.setAttribute("aria-label", t("documents.remove", { name: file.file_name }));
      remove.addEventListener("click", async () => {
        remove.disabled = true;
        const result = await ctx.api.request("DELETE", `${base}/${file.id}`);
        if (result.ok) await load();
        else remove.disabled = false;
      });
      row.append(remove);
    }
    return row;
  }

  function item(spec) {
    const entry = el("li", undefined, "document");
    entry.append(el("h4", spec.mandatory ? name(spec) : `${name(spec)} (${t("documents.optional")})`));
    const files = el("ul", undefined, "document-files");
    for (const file of attached.filter((a) => a.key === spec.key)) files.append(attachedFile(file));
    if (!files.children.length) {
      files.append(el("li", t(spec.mandatory ? "documents.missing" : "documents.none"), "muted"));
    }
    entry.append(files);
    if (open) {
      const note = el("p", "", "form-message");
      note.setAttribute("role", "alert");
      const types = spec.types.map((type) => LABELS[type] ?? type).join(", ");
      entry.append(fileInput(spec, t("documents.choose", { types, mb: spec.max_mb }), spec.types,
        false, note));
      const images = spec.types.filter((type) => type.startsWith("image/"));
      if (images.length) entry.append(fileInput(spec, t("documents.photo"), images, true, note));
      entry.append(note);
    }
    return entry;
  }

  function render(failed) {
    const list = el("ol", undefined, "documents");
    for (const spec of procedure.documents) list.append(item(spec));
    container.replaceChildren(el("h3", t("documents.title")), list);
    if (failed) container.append(el("p", t("documents.unavailable"), "form-message"));
  }

  async function load() {
    const result = await ctx.api.get(base, { cache: "no-store" });
    attached = result.ok ? result.data : attached;
    render(!result.ok);
  }

  load();
  return { reload: load };
}
