// An arguments form derived from a function's `args` validator (Convex's validator JSON), so
// people fill typed fields instead of writing JSON. Anything the form cannot express falls back
// to a JSON field for that argument; functions without a validator keep the raw JSON box.

import { type Child, h, newId } from "../dom";

/** Convex's exported validator JSON (`v.object({...}).json`), the subset we read. */
export interface ValidatorJson {
  type: string;
  value?: unknown;
  tableName?: string;
}
interface FieldJson {
  fieldType: ValidatorJson;
  optional: boolean;
}

export interface ArgsForm {
  el: HTMLElement;
  /** The arguments object; throws an Error naming the field when one cannot be read. */
  values(): Record<string, unknown>;
}

/** The validator of a spec's `args`, which the server sends as JSON text or as an object. */
export function parseValidator(raw: unknown): ValidatorJson | null {
  let v: unknown = raw;
  if (typeof raw === "string") {
    try {
      v = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  return v && typeof v === "object" && typeof (v as ValidatorJson).type === "string" ? (v as ValidatorJson) : null;
}

function describe(t: ValidatorJson): string {
  switch (t.type) {
    case "id": return `id of ${t.tableName ?? "a table"}`;
    case "literal": return `literal ${JSON.stringify(t.value)}`;
    case "array": return `array of ${describe(t.value as ValidatorJson)}`;
    case "union": return ((t.value as ValidatorJson[]) ?? []).map(describe).join(" | ");
    case "number": return "float64";
    case "bigint": return "int64";
    default: return t.type;
  }
}

interface Control {
  el: Child;
  read(): { present: boolean; value?: unknown };
}

function control(name: string, t: ValidatorJson, optional: boolean): Control {
  const id = newId("arg");
  const label = h("label", { for: id }, name, h("span", { class: "muted" }, ` (${describe(t)}${optional ? ", optional" : ""})`));
  const wrap = (input: HTMLElement): HTMLElement => h("div", { class: "field", "data-arg": name }, label, input);
  if (t.type === "boolean") {
    const select = h("select", { id, name: `arg:${name}` },
      optional ? h("option", { value: "" }, "(not set)") : null,
      h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false"));
    return { el: wrap(select), read: () => (select.value === "" ? { present: false } : { present: true, value: select.value === "true" }) };
  }
  if (t.type === "string" || t.type === "id" || t.type === "number" || t.type === "bigint" || t.type === "float64" || t.type === "int64") {
    const numeric = t.type !== "string" && t.type !== "id";
    const input = h("input", { id, name: `arg:${name}`, type: numeric ? "number" : "text", step: numeric ? "any" : null, required: !optional, autocomplete: "off" });
    return {
      el: wrap(input),
      read: () => {
        if (input.value === "" && (optional || numeric)) return { present: false };
        if (!numeric) return { present: true, value: input.value };
        if (t.type === "bigint" || t.type === "int64") return { present: true, value: BigInt(input.value) };
        return { present: true, value: Number(input.value) };
      },
    };
  }
  if (t.type === "literal") {
    return { el: wrap(h("input", { id, type: "text", value: JSON.stringify(t.value), readonly: true })), read: () => ({ present: true, value: t.value }) };
  }
  if (t.type === "union" && ((t.value as ValidatorJson[]) ?? []).every((m) => m.type === "literal")) {
    const members = (t.value as ValidatorJson[]).map((m) => m.value);
    const select = h("select", { id, name: `arg:${name}` },
      optional ? h("option", { value: "" }, "(not set)") : null,
      members.map((m, i) => h("option", { value: String(i) }, JSON.stringify(m))));
    return { el: wrap(select), read: () => (select.value === "" ? { present: false } : { present: true, value: members[Number(select.value)] }) };
  }
  // Objects, arrays, unions of shapes, any: a JSON field for this argument alone.
  const area = h("textarea", { id, name: `arg:${name}`, rows: 2, spellcheck: "false", placeholder: "JSON" });
  return {
    el: wrap(area),
    read: () => {
      if (area.value.trim() === "") return { present: false };
      try {
        return { present: true, value: JSON.parse(area.value) as unknown };
      } catch {
        throw new Error(`${name}: not valid JSON`);
      }
    },
  };
}

/** A form for an object validator, or null when the function takes something else. */
export function argsForm(validator: ValidatorJson | null): ArgsForm | null {
  if (!validator || validator.type !== "object" || !validator.value || typeof validator.value !== "object") return null;
  const fields = Object.entries(validator.value as Record<string, FieldJson>);
  const controls = fields.map(([name, f]) => ({ name, c: control(name, f.fieldType, f.optional) }));
  const el = h("fieldset", { class: "args-form", "data-testid": "args-form" },
    h("legend", {}, fields.length ? "Arguments" : "Arguments (this function takes none)"),
    controls.map(({ c }) => c.el));
  return {
    el,
    values() {
      const out: Record<string, unknown> = {};
      for (const { name, c } of controls) {
        const r = c.read();
        if (r.present) out[name] = r.value;
      }
      return out;
    },
  };
}
