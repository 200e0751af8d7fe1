// #/account — sign in, sign up with the one-time code, forgotten password, and "my account"
// (language, my data, password, sign out, deletion). The session lives in an HttpOnly cookie;
// who is signed in is the shell's (ctx.session), and ctx.api adds the CSRF token to writes.
const STRINGS = {
  vi: {
    "account.button": "Đăng nhập",
    "account.mine": "Tài khoản của tôi",
    "account.sign_in": "Đăng nhập",
    "account.sign_up": "Đăng ký",
    "account.to_sign_up": "Chưa có tài khoản? Đăng ký",
    "account.to_sign_in": "Đã có tài khoản? Đăng nhập",
    "account.forgot": "Quên mật khẩu",
    "account.send_code": "Gửi mã",
    "account.reset": "Đặt lại mật khẩu",
    "account.verify": "Xác thực",
    "account.code_sent": "Chúng tôi đã gửi mã 6 số đến số điện thoại hoặc email của bạn.",
    "account.code_sent_if": "Nếu số điện thoại hoặc email này có tài khoản, mã 6 số đã được gửi đến đó.",
    "account.consent": "Tôi đồng ý với mục đích xử lý dữ liệu cá nhân nêu trên",
    "account.field.identifier": "Số điện thoại hoặc email",
    "account.field.password": "Mật khẩu",
    "account.field.display_name": "Họ và tên",
    "account.field.code": "Mã xác thực",
    "account.field.new_password": "Mật khẩu mới (ít nhất 10 ký tự)",
    "account.field.current_password": "Mật khẩu hiện tại",
    "account.field.accept_purpose": "Đồng ý mục đích xử lý dữ liệu",
    "account.field.lang": "Ngôn ngữ",
    "account.phone": "Điện thoại",
    "account.email": "Email",
    "account.roles": "Vai trò",
    "account.role.citizen": "Công dân",
    "account.role.officer": "Cán bộ",
    "account.role.leader": "Lãnh đạo",
    "account.role.planner": "Cán bộ quy hoạch",
    "account.role.administrator": "Quản trị",
    "account.language": "Ngôn ngữ",
    "account.export": "Tải dữ liệu của tôi (JSON)",
    "account.dossiers": "Hồ sơ của tôi",
    "account.reports": "Phản ánh của tôi",
    "account.office": "Văn phòng điện tử (cán bộ)",
    "account.change_password": "Đổi mật khẩu",
    "account.password_set": "Đã đặt mật khẩu mới",
    "account.sign_out": "Đăng xuất",
    "account.sign_out_everywhere": "Đăng xuất trên mọi thiết bị",
    "account.delete": "Xoá tài khoản",
    "account.delete_explain": "Thông tin cá nhân của bạn sẽ bị xoá. Hồ sơ đã nộp vẫn được lưu theo quy định.",
    "account.delete_confirm": "Xoá vĩnh viễn",
    "account.deleted": "Đã xoá tài khoản",
    "account.back": "Quay lại",
    "account.wrong_credentials": "Số điện thoại/email hoặc mật khẩu không đúng",
    "account.wrong_password": "Mật khẩu không đúng",
    "account.wrong_code": "Mã không đúng hoặc đã hết hạn",
    "account.verify_first": "Hãy xác thực mã đã gửi cho bạn trước",
    "account.too_many": "Quá nhiều lần thử. Vui lòng thử lại sau.",
    "account.check_field": "Kiểm tra lại: {field}",
    "account.failed": "Không thực hiện được. Vui lòng thử lại.",
  },
  en: {
    "account.button": "Sign in",
    "account.mine": "My account",
    "account.sign_in": "Sign in",
    "account.sign_up": "Sign up",
    "account.to_sign_up": "No account yet? Sign up",
    "account.to_sign_in": "Have an account? Sign in",
    "account.forgot": "Forgot password",
    "account.send_code": "Send code",
    "account.reset": "Reset password",
    "account.verify": "Verify",
    "account.code_sent": "We sent a 6-digit code to your phone or e-mail.",
    "account.code_sent_if": "If this phone or e-mail has an account, a 6-digit code was sent to it.",
    "account.consent": "I agree to the purpose of processing stated above",
    "account.field.identifier": "Phone number or e-mail",
    "account.field.password": "Password",
    "account.field.display_name": "Full name",
    "account.field.code": "Code",
    "account.field.new_password": "New password (at least 10 characters)",
    "account.field.current_password": "Current password",
    "account.field.accept_purpose": "Consent to the purpose",
    "account.field.lang": "Language",
    "account.phone": "Phone",
    "account.email": "E-mail",
    "account.roles": "Roles",
    "account.role.citizen": "Citizen",
    "account.role.officer": "Officer",
    "account.role.leader": "Leader",
    "account.role.planner": "Planner",
    "account.role.administrator": "Administrator",
    "account.language": "Language",
    "account.export": "Download my data (JSON)",
    "account.dossiers": "My dossiers",
    "account.reports": "My reports",
    "account.office": "Mobile office (staff)",
    "account.change_password": "Change password",
    "account.password_set": "New password set",
    "account.sign_out": "Sign out",
    "account.sign_out_everywhere": "Sign out on every device",
    "account.delete": "Delete my account",
    "account.delete_explain": "Your personal data will be deleted. Dossiers you submitted are kept as the law requires.",
    "account.delete_confirm": "Delete for good",
    "account.deleted": "Account deleted",
    "account.back": "Back",
    "account.wrong_credentials": "The phone/e-mail or the password is wrong",
    "account.wrong_password": "The password is wrong",
    "account.wrong_code": "The code is wrong or has expired",
    "account.verify_first": "Verify the code we sent you first",
    "account.too_many": "Too many attempts. Please try again later.",
    "account.check_field": "Please check: {field}",
    "account.failed": "That did not work. Please try again.",
  },
};

export function mount(ctx) {
  const { lang, el, status, session } = ctx;
  const t = ctx.translate(STRINGS);
  const panel = document.getElementById("account");
  const button = document.getElementById("account-button");
  const me = { pendingPassword: null, identifier: null };
  let gone = false;
  const api = (method, path, body) => ctx.api.request(method, path, { body });

  function explain(result) {
    if (result.status === 429) return t("account.too_many");
    const { field } = result.error ?? {};
    if (result.status === 401) return t(field === "current_password" || field === "password"
      ? "account.wrong_password" : "account.wrong_credentials");
    if (result.status === 422 && field === "code") return t("account.wrong_code");
    if (result.status === 422 && field) {
      return t("account.check_field", { field: t(`account.field.${field}`) });
    }
    if (result.status === 403 && field === "identifier") return t("account.verify_first");
    return t("account.failed");
  }

  function field(name, type, autocomplete, extra = {}) {
    const id = `account-${name}`;
    const label = el("label", t(`account.field.${name}`));
    label.htmlFor = id;
    const input = el("input");
    Object.assign(input, { id, name, type, autocomplete, required: true, ...extra });
    const wrap = el("p", undefined, "field");
    wrap.append(label, input);
    return wrap;
  }

  function form(titleKey, fields, submitKey, onSubmit, after = []) {
    const node = el("form", undefined, "account-form");
    node.noValidate = false;
    const heading = el("h2", t(titleKey));
    heading.id = "account-title";
    heading.tabIndex = -1;
    const message = el("p", "", "form-message");
    message.setAttribute("role", "alert");
    const submit = el("button", t(submitKey));
    submit.type = "submit";
    node.append(heading, ...fields, message, submit, ...after);
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      message.textContent = "";
      try {
        const values = Object.fromEntries(new FormData(node).entries());
        const error = await onSubmit(values);
        if (error) message.textContent = error;
      } finally {
        submit.disabled = false;
      }
    });
    return node;
  }

  function link(key, action) {
    const b = el("button", t(key), "link");
    b.type = "button";
    b.addEventListener("click", action);
    return b;
  }

  function showView(node) {
    if (gone) return;
    panel.querySelector(".account-view").replaceChildren(node);
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    node.querySelector("h2")?.focus({ preventScroll: true });
  }

  function signIn() {
    showView(form("account.sign_in", [
      field("identifier", "text", "username", { inputMode: "email" }),
      field("password", "password", "current-password"),
    ], "account.sign_in", async (v) => {
      const result = await api("POST", "/api/auth/signin",
        { identifier: v.identifier, password: v.password });
      if (!result.ok) return explain(result);
      signedIn(result.data);
      return null;
    }, [link("account.to_sign_up", signUp), link("account.forgot", forgot)]));
  }

  async function signUp() {
    const purpose = await api("GET", "/api/auth/purpose");
    const consent = el("p", undefined, "consent");
    const box = el("input");
    Object.assign(box, { type: "checkbox", id: "account-consent", name: "consent",
      required: true });
    const label = el("label", t("account.consent"));
    label.htmlFor = "account-consent";
    consent.append(box, label);
    showView(form("account.sign_up", [
      field("display_name", "text", "name"),
      field("identifier", "text", "username", { inputMode: "email" }),
      field("password", "password", "new-password", { minLength: 10 }),
      el("p", purpose.data?.purpose ?? "", "muted purpose"),
      consent,
    ], "account.sign_up", async (v) => {
      const result = await api("POST", "/api/auth/signup", {
        identifier: v.identifier, password: v.password, display_name: v.display_name,
        lang, accept_purpose: v.consent === "on" });
      if (!result.ok) return explain(result);
      me.pendingPassword = v.password;
      me.identifier = v.identifier;
      verify();
      return null;
    }, [link("account.to_sign_in", signIn)]));
  }

  function verify() {
    showView(form("account.verify", [
      el("p", t("account.code_sent"), "muted"),
      field("code", "text", "one-time-code", { inputMode: "numeric", pattern: "\\d{6}",
        maxLength: 6 }),
    ], "account.verify", async (v) => {
      const result = await api("POST", "/api/auth/verify",
        { identifier: me.identifier, code: v.code });
      if (!result.ok) return explain(result);
      const signed = await api("POST", "/api/auth/signin",
        { identifier: me.identifier, password: me.pendingPassword });
      me.pendingPassword = null;
      if (!signed.ok) { signIn(); return null; }
      signedIn(signed.data);
      return null;
    }));
  }

  function forgot() {
    showView(form("account.forgot", [
      field("identifier", "text", "username", { inputMode: "email" }),
    ], "account.send_code", async (v) => {
      const result = await api("POST", "/api/auth/password/forgot", { identifier: v.identifier });
      if (!result.ok) return explain(result);
      me.identifier = v.identifier;
      reset();
      return null;
    }, [link("account.to_sign_in", signIn)]));
  }

  function reset() {
    showView(form("account.reset", [
      el("p", t("account.code_sent_if"), "muted"),
      field("code", "text", "one-time-code", { inputMode: "numeric", pattern: "\\d{6}",
        maxLength: 6 }),
      field("new_password", "password", "new-password", { minLength: 10 }),
    ], "account.reset", async (v) => {
      const result = await api("POST", "/api/auth/password/reset",
        { identifier: me.identifier, code: v.code, new_password: v.new_password });
      if (!result.ok) return explain(result);
      status.textContent = t("account.password_set");
      signIn();
      return null;
    }));
  }

  function signedIn(person) {
    session.set(person);
    mine();
  }

  function signedOut() {
    session.set(null);
    signIn();
  }

  function mine() {
    const p = session.person;
    const view = el("div", undefined, "account-form");
    const heading = el("h2", t("account.mine"));
    heading.id = "account-title";
    heading.tabIndex = -1;
    const facts = el("dl");
    facts.append(el("dt", t("account.field.display_name")), el("dd", p.display_name));
    if (p.phone) facts.append(el("dt", t("account.phone")), el("dd", p.phone));
    if (p.email) facts.append(el("dt", t("account.email")), el("dd", p.email));
    facts.append(el("dt", t("account.roles")),
      el("dd", p.roles.map((r) => t(`account.role.${r}`)).join(", ")));

    const langLabel = el("label", t("account.language"));
    langLabel.htmlFor = "account-lang";
    const select = el("select");
    select.id = "account-lang";
    for (const [value, name] of [["vi", "Tiếng Việt"], ["en", "English"]]) {
      const option = el("option", name);
      option.value = value;
      option.selected = value === (p.lang || lang);
      select.append(option);
    }
    select.addEventListener("change", async () => {
      const result = await api("PATCH", "/api/me", { lang: select.value });
      if (result.ok) {
        localStorage.setItem("lang", select.value);
        const url = new URL(location.href);
        url.searchParams.set("lang", select.value);
        url.hash = ""; // back to the map, in the new language
        location.replace(url);
      }
    });
    const langRow = el("p", undefined, "field");
    langRow.append(langLabel, select);

    const dossiers = el("a", t("account.dossiers"), "button-link");
    dossiers.href = "#/dossiers";
    const reports = el("a", t("account.reports"), "button-link");
    reports.href = "#/feedback/mine";
    // Staff who work the queue: the officers' mode of the same app.
    const office = el("a", t("account.office"), "button-link");
    office.href = "#/office";
    office.hidden = !p.roles.some((r) => ["officer", "leader", "administrator"].includes(r));
    const exportLink = el("a", t("account.export"), "button-link");
    exportLink.href = "/api/me/export";
    exportLink.download = "civicmap-my-data.json";

    const change = link("account.change_password", () => showView(form(
      "account.change_password", [
        field("current_password", "password", "current-password"),
        field("new_password", "password", "new-password", { minLength: 10 }),
      ], "account.change_password", async (v) => {
        const result = await api("POST", "/api/me/password", v);
        if (!result.ok) return explain(result);
        session.set(result.data);
        status.textContent = t("account.password_set");
        mine();
        return null;
      }, [link("account.back", mine)])));

    const out = el("button", t("account.sign_out"));
    out.type = "button";
    out.addEventListener("click", async () => {
      await api("POST", "/api/auth/signout");
      signedOut();
    });
    const everywhere = link("account.sign_out_everywhere", async () => {
      await api("POST", "/api/auth/signout?everywhere=true");
      signedOut();
    });
    const remove = link("account.delete", () => showView(form("account.delete", [
      el("p", t("account.delete_explain"), "muted"),
      field("password", "password", "current-password"),
    ], "account.delete_confirm", async (v) => {
      const result = await api("POST", "/api/me/deletion", { password: v.password });
      if (!result.ok) return explain(result);
      status.textContent = t("account.deleted");
      signedOut();
      return null;
    }, [link("account.back", mine)])));
    remove.classList.add("danger");
    view.append(heading, facts, langRow, office, dossiers, reports, exportLink, out, everywhere, change, remove);
    showView(view);
  }

  async function open() {
    if (!session.person && session.hinted()) await session.load();
    if (session.person) mine(); else signIn();
  }

  const onClose = () => { ctx.router.close(); button.focus(); };
  const close = panel.querySelector(".account-close");
  close.addEventListener("click", onClose);
  panel.hidden = false;
  button.setAttribute("aria-expanded", "true");
  open();
  return () => {
    gone = true;
    close.removeEventListener("click", onClose);
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    panel.querySelector(".account-view").replaceChildren();
  };
}
