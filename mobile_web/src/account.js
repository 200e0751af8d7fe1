// The account screens: sign in, sign up with the one-time code, forgotten password, and
// "my account" (language, my data, password, sign out, deletion). The session lives in an
// HttpOnly cookie; writes carry the CSRF token the server hands out with the person.
const SIGNED_IN = "signedIn"; // a hint only: avoids asking /api/me (and a 401) when signed out

export function accountScreens({ t, lang, el, panel, button, status, onPerson = () => {} }) {
  const me = { person: null, pendingPassword: null, identifier: null };

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (me.person?.csrf_token) headers["X-CSRF-Token"] = me.person.csrf_token;
    const res = await fetch(path, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = res.status === 204 || res.status === 202 ? null
      : await res.json().catch(() => null);
    return { ok: res.ok, status: res.status, data };
  }

  function explain(result) {
    if (result.status === 429) return t("account.too_many");
    const field = result.data?.field;
    if (result.status === 401) return t(field === "current_password" || field === "password"
      ? "account.wrong_password" : "account.wrong_credentials");
    if (result.status === 422 && field === "code") return t("account.wrong_code");
    if (result.status === 422 && Array.isArray(result.data?.detail)) {
      const loc = result.data.detail[0]?.loc?.at(-1);
      return t("account.check_field", { field: t(`account.field.${loc}`) });
    }
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

  function signedIn(person, quiet = false) {
    me.person = person;
    localStorage.setItem(SIGNED_IN, "1");
    button.textContent = t("account.mine");
    if (person.lang && person.lang !== lang) {
      localStorage.setItem("lang", person.lang);
    }
    onPerson(person);
    if (!quiet) mine();
  }

  function signedOut() {
    me.person = null;
    localStorage.removeItem(SIGNED_IN);
    button.textContent = t("account.button");
    onPerson(null);
    signIn();
  }

  function mine() {
    const p = me.person;
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
        location.replace(url);
      }
    });
    const langRow = el("p", undefined, "field");
    langRow.append(langLabel, select);

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
        me.person = result.data;
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
    view.append(heading, facts, langRow, exportLink, out, everywhere, change, remove);
    showView(view);
  }

  async function open() {
    if (!panel.hidden) {
      panel.hidden = true;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    if (me.person) { mine(); return; }
    if (localStorage.getItem(SIGNED_IN)) {
      const result = await api("GET", "/api/me");
      if (result.ok) { signedIn(result.data); return; }
      localStorage.removeItem(SIGNED_IN);
    }
    signIn();
  }

  button.addEventListener("click", open);
  panel.querySelector(".account-close").addEventListener("click", () => {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  });
  if (localStorage.getItem(SIGNED_IN)) {
    button.textContent = t("account.mine");
    // Who is signed in (roles decide what else the app offers); a stale hint is dropped.
    api("GET", "/api/me").then((result) => {
      if (result.ok) signedIn(result.data, true);
      else localStorage.removeItem(SIGNED_IN);
    });
  }
  return { open, csrf: () => me.person?.csrf_token ?? "" };
}
