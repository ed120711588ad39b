// Tiny DOM builder: every text goes through text nodes, so user data can never become markup.

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.replace(/^on/, ""), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let uid = 0;
/** A unique id for label/input and aria-describedby pairs. */
export function newId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Tell screen-reader users about something that changed outside their focus. */
export function announce(message: string): void {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => (region.textContent = message), 30);
}

/** A labelled form field; `input` attributes pass through. */
export function field(label: string, attrs: Attrs, hint?: string): HTMLDivElement {
  const id = newId("f");
  const hintId = hint ? `${id}-hint` : undefined;
  const tag = attrs.type === "textarea" ? "textarea" : "input";
  const control =
    tag === "textarea"
      ? h("textarea", { ...attrs, type: null, id, "aria-describedby": hintId })
      : h("input", { ...attrs, id, "aria-describedby": hintId });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

/** A select with a label. */
export function select(
  label: string,
  name: string,
  options: Array<[string, string]>,
  value?: string,
): HTMLDivElement {
  const id = newId("s");
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, name },
      options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
    ),
  );
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((v, k) => {
    out[k] = typeof v === "string" ? v : v.name;
  });
  return out;
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
