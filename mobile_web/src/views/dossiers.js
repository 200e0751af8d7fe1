// #/dossiers — my dossiers (or, for staff, those of my department and wards), newest first,
// each with its status and return date.
import { DOSSIER_WORDS } from "./dossier-words.js";

const STRINGS = {
  vi: { ...DOSSIER_WORDS.vi, "dossiers.title": "Hồ sơ của tôi", "dossiers.none": "Chưa có hồ sơ nào",
    "dossiers.draft": "Bản nháp", "dossiers.due": "hẹn trả {day}",
    "dossiers.sign_in": "Đăng nhập để xem hồ sơ của bạn", "dossiers.to_sign_in": "Đăng nhập",
    "dossiers.lookup": "Tra cứu hồ sơ theo mã", "dossiers.failed": "Không tải được danh sách hồ sơ" },
  en: { ...DOSSIER_WORDS.en, "dossiers.title": "My dossiers", "dossiers.none": "No dossiers yet",
    "dossiers.draft": "Draft", "dossiers.due": "due {day}",
    "dossiers.sign_in": "Sign in to see your dossiers", "dossiers.to_sign_in": "Sign in",
    "dossiers.lookup": "Look a dossier up by its code", "dossiers.failed": "Could not load the dossiers" },
};

export function mount(ctx) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const { panel, view } = ctx.panel("dossiers");
  const locale = lang === "en" ? "en-GB" : "vi-VN";
  let gone = false;
  const h = el("h2", t("dossiers.title"));
  h.id = "dossiers-title";
  h.tabIndex = -1;

  (async () => {
    const result = await ctx.api.get("/api/dossiers?limit=100");
    if (gone) return;
    const box = el("div", undefined, "account-form");
    box.append(h);
    const lookup = el("a", t("dossiers.lookup"), "link");
    lookup.href = "#/lookup";
    if (result.status === 401) {
      const go = el("button", t("dossiers.to_sign_in"));
      go.type = "button";
      go.addEventListener("click", () => ctx.router.go("#/account"));
      box.append(el("p", t("dossiers.sign_in")), go, lookup);
    } else if (!result.ok) box.append(el("p", t("dossiers.failed")), lookup);
    else {
      const list = el("ul", undefined, "issues dossier-list");
      for (const d of result.data) {
        const item = el("li");
        const link = el("a", d.code ?? t("dossiers.draft"));
        link.href = `#/dossiers/${d.id}`;
        const due = d.due_on ? ` · ${t("dossiers.due", { day: new Date(`${d.due_on}T00:00:00`).toLocaleDateString(locale) })}` : "";
        item.append(link, el("span", ` · ${d.procedure_id} · ${t(`status.${d.status}`)}${due}`));
        if (d.status === "overdue") item.classList.add("rejected");
        list.append(item);
      }
      box.append(result.data.length ? list : el("p", t("dossiers.none")), lookup);
    }
    view.replaceChildren(box);
    h.focus({ preventScroll: true });
  })();

  return () => {
    gone = true;
    panel.remove();
  };
}
