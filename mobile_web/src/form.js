// A form drawn from a procedure's JSON Schema (the subset procedures use: an object whose
// properties are strings, integers, numbers or booleans, with title, minimum/maximum,
// minLength/maxLength, pattern, enum, required). Checking here is a courtesy to the applicant,
// in the server's words (permits/forms.py); the server decides, and its refusals are shown
// beside the fields the same way (setErrors).
const STRINGS = {
  vi: {
    "form.required": "bắt buộc",
    "form.type.integer": "Phải là một số nguyên",
    "form.type.number": "Phải là một số",
    "form.type.string": "Phải là chữ",
    "form.minimum": "Không được nhỏ hơn {limit}",
    "form.maximum": "Không được lớn hơn {limit}",
    "form.minLength": "Ít nhất {limit} ký tự",
    "form.maxLength": "Không quá {limit} ký tự",
    "form.pattern": "Không đúng định dạng",
    "form.enum": "Phải là một trong các giá trị: {values}",
    "form.missing": "Bắt buộc nhập",
    "form.choose": "— Chọn —",
  },
  en: {
    "form.required": "required",
    "form.type.integer": "Must be a whole number",
    "form.type.number": "Must be a number",
    "form.type.string": "Must be text",
    "form.minimum": "Must be at least {limit}",
    "form.maximum": "Must be at most {limit}",
    "form.minLength": "At least {limit} characters",
    "form.maxLength": "At most {limit} characters",
    "form.pattern": "Not in the expected format",
    "form.enum": "Must be one of: {values}",
    "form.missing": "Required",
    "form.choose": "— Choose —",
  },
};

let forms = 0; // ids stay unique when a view shows two forms

// renderForm(ctx, schema, values, { onChange, idPrefix }) → { node, answers(), validate(),
// setValues(values), setErrors(errors), setFindings(findings), focus(field) }.
// answers() gives typed values (integers and numbers as numbers) and leaves empty fields out;
// validate({ complete }) shows and returns the refusals ({ field, rule, message }): a draft's
// check (complete false) leaves `required` aside, as the server does.
export function renderForm(ctx, schema, values = {}, { onChange = () => {}, idPrefix } = {}) {
  const { el, lang } = ctx;
  const t = ctx.translate(STRINGS);
  const prefix = idPrefix ?? `form${++forms}`;
  const required = new Set(schema.required ?? []);
  const node = el("div", undefined, "schema-form");
  const fields = new Map();
  const limit = (n) => ctx.formatNumber(n, lang);

  for (const [name, spec] of Object.entries(schema.properties ?? {})) {
    const id = `${prefix}-${name}`;
    const wrap = el("p", undefined, "field");
    const label = el("label", spec.title ?? name);
    label.htmlFor = id;
    if (required.has(name)) {
      const mark = el("span", " *", "required-mark");
      mark.title = t("form.required");
      label.append(mark);
    }
    let input;
    if (Array.isArray(spec.enum)) {
      input = el("select");
      const none = el("option", t("form.choose"));
      none.value = "";
      input.append(none, ...spec.enum.map((v) => {
        const option = el("option", String(v));
        option.value = String(v);
        return option;
      }));
    } else if (spec.type === "boolean") {
      input = el("input");
      input.type = "checkbox";
    } else if (spec.type === "string" && (spec.maxLength ?? 0) > 300) {
      input = el("textarea");
      input.rows = 3;
    } else {
      input = el("input");
      input.type = spec.type === "integer" || spec.type === "number" ? "number" : "text";
    }
    input.id = id;
    input.name = name;
    if (spec.type === "integer" || spec.type === "number") {
      input.inputMode = spec.type === "integer" ? "numeric" : "decimal";
      input.step = spec.type === "integer" ? "1" : "any";
      if (spec.minimum !== undefined) input.min = String(spec.minimum);
      if (spec.maximum !== undefined) input.max = String(spec.maximum);
    }
    if (spec.type === "string" && input.tagName !== "SELECT") {
      if (spec.maxLength !== undefined) input.maxLength = spec.maxLength;
      if (spec.minLength !== undefined) input.minLength = spec.minLength;
      if (spec.pattern !== undefined && input.tagName === "INPUT") input.pattern = spec.pattern;
    }
    if (required.has(name)) input.setAttribute("aria-required", "true");
    const error = el("span", "", "field-error");
    error.id = `${id}-error`;
    error.setAttribute("aria-live", "polite");
    const finding = el("span", "", "field-finding");
    finding.id = `${id}-finding`;
    input.setAttribute("aria-describedby", `${error.id} ${finding.id}`);
    wrap.append(label, input, error, finding);
    node.append(wrap);
    fields.set(name, { spec, input, error, finding });
    input.addEventListener(spec.type === "boolean" || input.tagName === "SELECT" ? "change" : "input", () => {
      show(name, check(name, false));
      onChange(name);
    });
  }

  // A field's typed value: undefined when empty, NaN when the browser holds a bad number.
  function valueOf({ spec, input }) {
    if (spec.type === "boolean") return input.checked;
    if (spec.type === "integer" || spec.type === "number") {
      if (input.validity?.badInput) return Number.NaN;
      return input.value.trim() === "" ? undefined : Number(input.value);
    }
    return input.value === "" ? undefined : input.value;
  }

  function check(name, complete) {
    const { spec } = fields.get(name);
    const value = valueOf(fields.get(name));
    if (value === undefined) {
      return complete && required.has(name) ? { rule: "required", message: t("form.missing") } : null;
    }
    if (spec.type === "integer" && !Number.isInteger(value)) {
      return { rule: "type", message: t("form.type.integer") };
    }
    if (spec.type === "number" && !Number.isFinite(value)) {
      return { rule: "type", message: t("form.type.number") };
    }
    if (spec.minimum !== undefined && value < spec.minimum) {
      return { rule: "minimum", message: t("form.minimum", { limit: limit(spec.minimum) }) };
    }
    if (spec.maximum !== undefined && value > spec.maximum) {
      return { rule: "maximum", message: t("form.maximum", { limit: limit(spec.maximum) }) };
    }
    if (typeof value === "string") {
      const length = [...value].length; // characters, as JSON Schema counts them
      if (spec.minLength !== undefined && length < spec.minLength) {
        return { rule: "minLength", message: t("form.minLength", { limit: spec.minLength }) };
      }
      if (spec.maxLength !== undefined && length > spec.maxLength) {
        return { rule: "maxLength", message: t("form.maxLength", { limit: spec.maxLength }) };
      }
      if (spec.pattern !== undefined && !new RegExp(spec.pattern, "u").test(value)) {
        return { rule: "pattern", message: t("form.pattern") };
      }
    }
    if (Array.isArray(spec.enum) && !spec.enum.map(String).includes(String(value))) {
      return { rule: "enum", message: t("form.enum", { values: spec.enum.join(", ") }) };
    }
    return null;
  }

  function show(name, problem) {
    const { input, error } = fields.get(name);
    error.textContent = problem?.message ?? "";
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function setValues(given = {}) {
    for (const [name, { spec, input }] of fields) {
      const value = given[name];
      if (spec.type === "boolean") input.checked = value === true;
      else input.value = value === undefined || value === null ? "" : String(value);
      show(name, null);
    }
  }
  setValues(values);

  const say = (item) => (lang === "en" ? item.message_en : item.message_vi) ?? item.message;

  return {
    node,
    answers() {
      const out = {};
      for (const [name, field] of fields) {
        const value = valueOf(field);
        if (value !== undefined && !(field.spec.type === "boolean" && value === false &&
          !required.has(name))) out[name] = value;
      }
      return out;
    },
    validate({ complete = false } = {}) {
      const problems = [];
      for (const name of fields.keys()) {
        const problem = check(name, complete);
        show(name, problem);
        if (problem) problems.push({ field: name, ...problem });
      }
      return problems;
    },
    // The server's refusals ({ field, message_vi, message_en }); returns those naming no field
    // of this form.
    setErrors(errors = []) {
      for (const name of fields.keys()) show(name, null);
      const elsewhere = [];
      for (const e of errors) {
        if (fields.has(e.field)) show(e.field, { message: say(e) });
        else elsewhere.push(e);
      }
      return elsewhere;
    },
    // The pre-check's findings, beside their fields; returns those naming no field of this form.
    setFindings(findings = []) {
      for (const { finding } of fields.values()) finding.textContent = "";
      const elsewhere = [];
      for (const f of findings) {
        const field = fields.get(f.field);
        if (field) field.finding.textContent = [field.finding.textContent, say(f)].filter(Boolean).join(" · ");
        else elsewhere.push(f);
      }
      return elsewhere;
    },
    setValues,
    focus(name) { fields.get(name)?.input.focus(); },
  };
}
