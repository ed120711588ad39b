// Live data browser: the official ConvexClient subscribes (admin auth) to the system queries
// Convex's own dashboard uses, so writes from any other client show up without reloading.

import type { FunctionReference } from "convex/server";
import { announce, h, newId, replace } from "../dom";
import { confirmDialog, errorText, page, statusLine } from "../ui";
import { type AdminSession, adminSession, cleanups, dashboardTabs, liveClient } from "./dashboard";
import { idTableNumber } from "./ids";

type Doc = Record<string, unknown> & { _id: string; _creationTime?: number };
interface PageResult {
  page: Doc[];
  isDone: boolean;
  continueCursor: string;
}

export function ref<T extends "query" | "mutation" | "action">(name: string): FunctionReference<T> {
  return name as unknown as FunctionReference<T>;
}

export const SYSTEM = {
  components: ref<"query">("_system/frontend/components:list"),
  tables: ref<"query">("_system/frontend/getTableMapping"),
  documents: ref<"query">("_system/frontend/paginatedTableDocuments"),
  add: ref<"mutation">("_system/frontend/addDocument"),
  patch: ref<"mutation">("_system/frontend/patchDocumentsFields"),
  remove: ref<"mutation">("_system/frontend/deleteDocuments"),
  schemas: ref<"query">("_system/frontend/getSchemas"),
};

interface FilterClause {
  field: string;
  op: string;
  value: unknown;
}

const OPS: Array<[string, string]> = [
  ["eq", "="], ["neq", "≠"], ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"], ["type", "is of type"], ["notype", "is not of type"],
];

/** A value typed in a filter: JSON when it parses (5, true, null, "x"), else the text itself. */
function filterValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Index names per table from the deployed schema (creation time always). */
function indexesOf(schemaJson: string | null, table: string): string[] {
  if (!schemaJson) return [];
  try {
    const schema = JSON.parse(schemaJson) as { tables?: Array<{ tableName: string; indexes?: Array<{ indexDescriptor: string }> }> };
    return (schema.tables ?? []).find((t) => t.tableName === table)?.indexes?.map((i) => i.indexDescriptor) ?? [];
  } catch {
    return [];
  }
}

export function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof ArrayBuffer) return `<${value.byteLength} bytes>`;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v)) ?? "undefined";
}

/** Where an id cell leads: the table it names (when known) and the id. */
export type IdLink = (id: string) => { table: string; open(): void } | null;

/** One cell, typed: strings as text, `_creationTime` as a date, ids as links to their
 * document, null/bigint/bytes marked, objects and arrays as compact JSON. */
function cell(column: string, value: unknown, idLink?: IdLink): Node | string {
  if (value === undefined) return "";
  if (column === "_creationTime" && typeof value === "number") {
    const when = new Date(value);
    return h("time", { datetime: when.toISOString(), title: String(value) }, when.toLocaleString());
  }
  if (typeof value === "string") {
    const link = idLink?.(value);
    if (link && column !== "_id") {
      return h("button", { type: "button", class: "link id-link", title: `Open ${value} in ${link.table}`, onclick: link.open }, value);
    }
    return value;
  }
  if (value === null) return h("span", { class: "muted" }, "null");
  if (typeof value === "bigint") return h("span", { title: "int64" }, `${value}n`);
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (value instanceof ArrayBuffer) return h("span", { class: "muted" }, `<${value.byteLength} bytes>`);
  const text = showValue(value);
  return h("code", { title: text.length > 120 ? text : null }, text.length > 120 ? `${text.slice(0, 117)}…` : text);
}

/** A table of documents; columns are the union of fields, system fields first. */
export function documentsTable(caption: string, docs: Doc[], actions?: (doc: Doc) => Node[], idLink?: IdLink): HTMLElement {
  if (docs.length === 0) return h("p", { class: "muted", "data-testid": "no-documents" }, "No documents.");
  const cols = new Set<string>(["_id"]);
  for (const d of docs) for (const k of Object.keys(d)) cols.add(k);
  const columns = [...cols].sort((a, b) => Number(b.startsWith("_")) - Number(a.startsWith("_")) || (a === "_id" ? -1 : b === "_id" ? 1 : 0));
  return h("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", { class: "documents" },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)), actions ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null)),
      h("tbody", {}, docs.map((d) => h("tr", { "data-id": d._id },
        columns.map((c) => h("td", {}, cell(c, d[c], idLink))),
        actions ? h("td", { class: "row-actions" }, actions(d)) : null,
      ))),
    ),
  );
}

/** Which component the browser looks at; system functions take it as `componentId`. */
interface Scope {
  componentId: string | null;
  path: string;
}

function inScope(scope: Scope): { componentId?: string } {
  return scope.componentId === null ? {} : { componentId: scope.componentId };
}

interface ComponentInfo {
  id: string;
  path: string;
  state: string;
}

export async function dataView(p: { name: string }): Promise<Node> {
  const session = await adminSession(p.name);
  const client = liveClient(session);
  const status = statusLine();
  const scope: Scope = { componentId: null, path: "" };
  const tableList = h("ul", { class: "table-list", "aria-label": "Tables" }, h("li", { class: "muted" }, "Loading tables…"));
  const componentSelect = h("select", { id: newId("component"), "aria-label": "Component" });
  const componentField = h("div", { class: "field", hidden: true }, h("label", { for: componentSelect.id }, "Component"), componentSelect);
  const docsRegion = h("div", { "aria-live": "polite", "aria-busy": "false", "data-testid": "documents" }, h("p", { class: "muted" }, "Choose a table."));
  const heading = h("h2", { id: "table-title" }, "Documents");
  let selected = "";
  let unsubscribeDocs: (() => void) | null = null;
  let schemaJson: string | null = null;
  const tableByNumber = new Map<string, string>();
  // What the page shows: sort index and order, field filters, and the page (a cursor stack).
  const view = { index: "by_creation_time", order: "desc", filters: [] as FilterClause[], pageSize: 100, cursors: [null] as Array<string | null>, next: "" };

  const addForm = addDocumentForm(session, scope, status);
  const sortSelect = h("select", { id: newId("sort") });
  const orderSelect = h("select", { id: newId("order") }, h("option", { value: "desc" }, "Descending"), h("option", { value: "asc" }, "Ascending"));
  const sizeSelect = h("select", { id: newId("size") }, [25, 100, 500].map((n) => h("option", { value: String(n), selected: n === 100 }, String(n))));
  const filterRows = h("div", { class: "filter-rows" });
  const prev = h("button", { type: "button", class: "secondary small" }, "← Previous page");
  const next = h("button", { type: "button", class: "secondary small" }, "Next page →");
  const pageLabel = h("span", { class: "muted", "data-testid": "page-label" }, "");
  const idLink: IdLink = (id) => {
    const num = idTableNumber(id);
    const table = num === null ? undefined : tableByNumber.get(String(num));
    return table ? { table, open: () => openTable(table, [{ field: "_id", op: "eq", value: id }]) } : null;
  };
  const addFilterRow = (clause?: FilterClause): void => {
    const fieldId = newId("ff");
    const row = h("div", { class: "row filter-row" },
      h("div", { class: "field" }, h("label", { for: fieldId }, "Field"), h("input", { id: fieldId, name: "field", value: clause?.field ?? "", placeholder: "author", autocomplete: "off" })),
      h("div", { class: "field" }, h("label", { for: `${fieldId}-op` }, "Operator"), h("select", { id: `${fieldId}-op`, name: "op" }, OPS.map(([v, t]) => h("option", { value: v, selected: v === (clause?.op ?? "eq") }, t)))),
      h("div", { class: "field" }, h("label", { for: `${fieldId}-v` }, "Value"), h("input", { id: `${fieldId}-v`, name: "value", value: clause === undefined ? "" : typeof clause.value === "string" ? clause.value : JSON.stringify(clause.value), placeholder: "\"text\", 5, true", autocomplete: "off" })),
      h("button", { type: "button", class: "secondary small", "aria-label": "Remove this filter", onclick: () => row.remove() }, "Remove"),
    );
    filterRows.append(row);
  };
  const readFilters = (): FilterClause[] =>
    [...filterRows.querySelectorAll<HTMLElement>(".filter-row")].flatMap((row) => {
      const field = row.querySelector<HTMLInputElement>("input[name=field]")?.value.trim() ?? "";
      const op = row.querySelector<HTMLSelectElement>("select[name=op]")?.value ?? "eq";
      const raw = row.querySelector<HTMLInputElement>("input[name=value]")?.value ?? "";
      return field ? [{ field, op, value: op === "type" || op === "notype" ? raw.trim() : filterValue(raw) }] : [];
    });
  const controls = h("form", { class: "card browse-controls", "aria-label": "Sort and filter documents" },
    h("div", { class: "row" },
      h("div", { class: "field" }, h("label", { for: sortSelect.id }, "Sort by index"), sortSelect),
      h("div", { class: "field" }, h("label", { for: orderSelect.id }, "Order"), orderSelect),
      h("div", { class: "field" }, h("label", { for: sizeSelect.id }, "Page size"), sizeSelect)),
    h("fieldset", {}, h("legend", {}, "Filters (all must match)"), filterRows,
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary small", onclick: () => addFilterRow() }, "Add a filter"),
        h("button", { type: "submit" }, "Apply"),
        h("button", { type: "button", class: "secondary small", onclick: () => { filterRows.replaceChildren(); view.filters = []; restart(); } }, "Clear filters"))),
  );
  controls.addEventListener("submit", (e) => {
    e.preventDefault();
    view.filters = readFilters();
    restart();
  });
  for (const el of [sortSelect, orderSelect, sizeSelect]) el.addEventListener("change", () => {
    view.index = sortSelect.value || "by_creation_time";
    view.order = orderSelect.value;
    view.pageSize = Number(sizeSelect.value);
    restart();
  });
  prev.addEventListener("click", () => { if (view.cursors.length > 1) { view.cursors.pop(); subscribePage(); } });
  next.addEventListener("click", () => { if (view.next) { view.cursors.push(view.next); subscribePage(); } });

  const subscribePage = (): void => {
    const name = selected;
    unsubscribeDocs?.();
    docsRegion.setAttribute("aria-busy", "true");
    replace(docsRegion, h("p", { class: "muted" }, "Loading documents…")); // never the last table's rows
    const cursor = view.cursors[view.cursors.length - 1] ?? null;
    const filtered = view.filters.length > 0;
    unsubscribeDocs = client.onUpdate(
      SYSTEM.documents,
      { ...inScope(scope), table: name, filters: filtered ? view.filters : null, index: view.index, order: view.order, paginationOpts: { numItems: view.pageSize, cursor } },
      (result: PageResult) => {
        docsRegion.setAttribute("aria-busy", "false");
        view.next = result.isDone ? "" : result.continueCursor;
        prev.disabled = view.cursors.length <= 1;
        next.disabled = result.isDone;
        pageLabel.textContent = `Page ${view.cursors.length}: ${result.page.length} document${result.page.length === 1 ? "" : "s"}${filtered ? " matching the filters" : ""}.`;
        replace(docsRegion, documentsTable(`Documents in ${name}`, result.page, (doc) => docActions(session, scope, name, doc, status), idLink));
      },
      (err: Error) => {
        docsRegion.setAttribute("aria-busy", "false");
        replace(docsRegion, h("p", { class: "status error", role: "alert" }, `Could not load documents: ${err.message}`));
      },
    );
  };
  const restart = (): void => {
    view.cursors = [null];
    view.next = "";
    if (selected) subscribePage();
  };
  const openTable = (name: string, filters: FilterClause[] = []): void => {
    selected = name;
    addForm.setTable(name);
    heading.textContent = scope.path ? `Table ${name} (component ${scope.path})` : `Table ${name}`;
    for (const b of tableList.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.table === name));
    replace(sortSelect, h("option", { value: "by_creation_time" }, "Creation time"), indexesOf(schemaJson, name).map((i) => h("option", { value: i }, i)));
    view.index = "by_creation_time";
    filterRows.replaceChildren();
    for (const f of filters) addFilterRow(f);
    view.filters = filters;
    restart();
  };

  cleanups.push(() => unsubscribeDocs?.());
  let unsubscribeTables: (() => void) | null = null;
  const watchTables = (): void => {
    unsubscribeTables?.();
    schemaJson = null;
    client.query(SYSTEM.schemas, inScope(scope)).then((r: { active: string | null }) => {
      schemaJson = r.active;
      if (selected && sortSelect.options.length <= 1) {
        sortSelect.append(...indexesOf(schemaJson, selected).map((i) => h("option", { value: i }, i)));
      }
    }, () => undefined);
    unsubscribeTables = client.onUpdate(SYSTEM.tables, inScope(scope), (mapping: Record<string, string>) => {
      tableByNumber.clear();
      for (const [num, name] of Object.entries(mapping)) tableByNumber.set(num, name);
      const names = Object.values(mapping).filter((n) => !n.startsWith("_")).sort();
      replace(tableList, names.length === 0 ? h("li", { class: "muted" }, "No tables yet. Deploy an app or add a document.") :
        names.map((n) => h("li", {}, h("button", { type: "button", class: "link", "data-table": n, "aria-pressed": String(n === selected), onclick: () => openTable(n) }, n))));
      if (!selected && names.length > 0) openTable(names[0] ?? "");
    }, (err: Error) => replace(tableList, h("li", { class: "status error", role: "alert" }, `Could not list tables: ${err.message}`)));
  };
  watchTables();
  cleanups.push(() => unsubscribeTables?.());

  // Apps with components: pick the component whose tables to browse (the app by default).
  componentSelect.addEventListener("change", () => {
    const option = componentSelect.selectedOptions[0];
    scope.componentId = option?.value ? option.value : null;
    scope.path = option?.dataset.path ?? "";
    selected = "";
    unsubscribeDocs?.();
    unsubscribeDocs = null; // the client refuses a second unsubscribe of the same query
    replace(docsRegion, h("p", { class: "muted" }, "Choose a table."));
    heading.textContent = "Documents";
    watchTables();
  });
  const unsubscribeComponents = client.onUpdate(SYSTEM.components, {}, (components: ComponentInfo[]) => {
    const children = components.filter((c) => c.path !== "").sort((a, b) => a.path.localeCompare(b.path));
    componentField.hidden = children.length === 0;
    replace(componentSelect,
      h("option", { value: "", "data-path": "" }, "App (root)"),
      children.map((c) => h("option", { value: c.id, "data-path": c.path }, c.state === "active" ? c.path : `${c.path} (${c.state})`)));
    componentSelect.value = scope.componentId ?? "";
  }, () => { componentField.hidden = true; });
  cleanups.push(unsubscribeComponents);

  return page(`${p.name}: data`, dashboardTabs(p.name, `/deployments/${p.name}/data`),
    h("div", { class: "split" },
      h("nav", { class: "sidebar", "aria-label": "Tables" }, componentField, h("h2", {}, "Tables"), tableList),
      h("div", { class: "main-col" }, heading, status.el, controls, h("div", { class: "row" }, prev, pageLabel, next), docsRegion, addForm.form),
    ),
  );
}

function docActions(s: AdminSession, scope: Scope, table: string, doc: Doc, status: ReturnType<typeof statusLine>): Node[] {
  const edit = h("button", { type: "button", class: "secondary small", "aria-label": `Edit ${doc._id}`, onclick: () => editDialog(s, scope, table, doc, status) }, "Edit");
  const del = h("button", { type: "button", class: "danger small", "aria-label": `Delete ${doc._id}`, onclick: async () => {
    if (!(await confirmDialog(`Delete document ${doc._id}?`, "Delete"))) return;
    try {
      await liveClient(s).mutation(SYSTEM.remove, { ...inScope(scope), toDelete: [{ id: doc._id, tableName: table }] });
      announce("Document deleted");
    } catch (err) { status.fail(err); }
  } }, "Delete");
  return [edit, del];
}

function userFields(doc: Doc): Record<string, unknown> {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith("_")));
}

function parseObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("Enter a JSON object, like {\"text\": \"hi\"}");
  return value as Record<string, unknown>;
}

function editDialog(s: AdminSession, scope: Scope, table: string, doc: Doc, status: ReturnType<typeof statusLine>): void {
  const id = newId("edit");
  const opener = document.activeElement as HTMLElement | null;
  const area = h("textarea", { id, rows: 10, spellcheck: "false" });
  area.value = JSON.stringify(userFields(doc), null, 2);
  const err = h("p", { class: "status error", role: "alert" });
  const dialog = h("dialog", { "aria-labelledby": `${id}-t` },
    h("form", { method: "dialog" },
      h("h2", { id: `${id}-t` }, `Edit ${doc._id}`),
      h("label", { for: id }, "Fields (JSON)"), area, err,
      h("div", { class: "row" },
        h("button", { type: "submit", value: "cancel", class: "secondary" }, "Cancel"),
        h("button", { type: "button", onclick: async () => {
          try {
            const fields = parseObject(area.value);
            // `undefined` does not survive the wire, so deleted fields are named explicitly.
            const removeFields = Object.keys(userFields(doc)).filter((k) => !(k in fields));
            await liveClient(s).mutation(SYSTEM.patch, { ...inScope(scope), table, ids: [doc._id], fields, ...(removeFields.length ? { removeFields } : {}) });
            dialog.close();
            announce("Document saved");
          } catch (e) { err.textContent = errorText(e); }
        } }, "Save"),
      ),
    ),
  );
  dialog.addEventListener("close", () => { dialog.remove(); opener?.focus(); });
  document.body.appendChild(dialog);
  dialog.showModal();
  void status;
}

/** The add form; `setTable` prefills the table the user opened (they may type another). */
function addDocumentForm(s: AdminSession, scope: Scope, status: ReturnType<typeof statusLine>): { form: HTMLElement; setTable(name: string): void } {
  const tableId = newId("t");
  const docId = newId("d");
  const tableInput = h("input", { id: tableId, name: "table", required: true, pattern: "[A-Za-z][A-Za-z0-9_]*", autocomplete: "off" });
  const area = h("textarea", { id: docId, name: "document", rows: 4, required: true, spellcheck: "false" });
  area.value = "{}";
  const form = h("form", { class: "card", "aria-label": "Add a document" },
    h("h3", {}, "Add a document"),
    h("div", { class: "field" }, h("label", { for: tableId }, "Table"), tableInput),
    h("div", { class: "field" }, h("label", { for: docId }, "Document (JSON object)"), area),
    h("button", { type: "submit" }, "Add document"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await liveClient(s).mutation(SYSTEM.add, { ...inScope(scope), table: tableInput.value, documents: [parseObject(area.value)] });
      status.ok(`Added a document to ${tableInput.value}.`);
      area.value = "{}";
    } catch (err) { status.fail(err); }
  });
  return { form, setTable: (name) => { tableInput.value = name; } };
}
