// The other dashboard panels: functions + runner, live logs, schedules and crons, files,
// schema and indexes, snapshot export/import with progress.

import { announce, field, fmtBytes, fmtDate, formValues, h, newId, replace } from "../dom";
import { confirmDialog, errorText, onSubmit, page, statusLine, table } from "../ui";
import { type AdminSession, adminSession, cleanups, dashboardTabs, deploymentFetch, httpClient, liveClient } from "./dashboard";
import { type ArgsForm, type ValidatorJson, argsForm, parseValidator } from "./argsform";
import { SYSTEM, ref, showValue } from "./data";

/** One entry of `_system/cli/modules:apiSpec` (what `npx convex function-spec` prints). */
interface FunctionSpec {
  functionType: string;
  identifier?: string;
  args?: unknown;
  visibility?: { kind: string };
  method?: string;
  path?: string;
}

type Row = Record<string, unknown> & { _id: string };

/** "messages.js:list" -> "messages:list", the form clients call. */
function callablePath(identifier: string): string {
  return identifier.replace(/\.(js|ts|mjs|cjs|jsx|tsx):/, ":");
}

export async function functionsView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  const status = statusLine();
  const result = h("pre", { class: "result", "aria-live": "polite", "data-testid": "function-result", tabindex: 0 });
  const listId = newId("fns");
  const datalist = h("datalist", { id: listId });
  const kindOf = new Map<string, string>();
  const argsOf = new Map<string, ValidatorJson | null>();
  const typed = h("div", { "data-testid": "typed-args" });
  let current: ArgsForm | null = null;
  const list = h("div", { "data-testid": "function-list" }, h("p", { class: "muted" }, "Loading functions…"));
  const load = async (): Promise<void> => {
    try {
      const spec = (await httpClient(s).query(ref<"query">("_system/cli/modules:apiSpec"), {})) as FunctionSpec[];
      const fns = spec.filter((f) => f.identifier).map((f) => ({ path: callablePath(f.identifier ?? ""), kind: f.functionType.toLowerCase(), visibility: f.visibility?.kind ?? "public" }));
      const routes = spec.filter((f) => f.functionType === "HttpAction" && f.path);
      for (const f of fns) kindOf.set(f.path, f.kind);
      for (const f of spec) if (f.identifier) argsOf.set(callablePath(f.identifier), parseValidator(f.args));
      showArgs();
      replace(datalist, fns.map((f) => h("option", { value: f.path })));
      replace(list,
        table("Functions", ["Function", "Type", "Visibility"], fns.map((f) => [h("code", {}, f.path), f.kind, f.visibility]), "No functions deployed."),
        routes.length ? [h("h3", {}, "HTTP routes"), table("HTTP routes", ["Method", "Path"], routes.map((r) => [r.method ?? "", h("code", {}, r.path ?? "")]), "")] : null,
      );
    } catch (err) {
      replace(list, h("p", { class: "status error", role: "alert" }, `Could not list functions: ${errorText(err)}. You can still run a function by name below.`));
    }
  };
  void load();
  const refresh = h("button", { type: "button", class: "secondary", onclick: () => void load() }, "Refresh list");
  const form = onSubmit(
    h("form", { class: "card", "aria-label": "Run a function" },
      h("h2", {}, "Run a function"),
      field("Function", { name: "fn", required: true, list: listId, placeholder: "messages:list", autocomplete: "off" }),
      h("div", { class: "field" }, h("label", { for: `${listId}-k` }, "Kind"),
        h("select", { id: `${listId}-k`, name: "kind" }, ["auto", "query", "mutation", "action"].map((k) => h("option", { value: k }, k)))),
      typed,
      field("Arguments (JSON object)", { name: "args", type: "textarea", rows: 4, value: "{}", spellcheck: "false" }),
      h("p", {}, h("label", { class: "inline" }, h("input", { type: "checkbox", name: "asJson" }), " Edit the arguments as JSON")),
      h("button", { type: "submit" }, "Run"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      result.textContent = ""; // a new run never shows the previous run's result
      status.ok("Running…");
      const args: unknown = current && !asJson.checked ? current.values() : JSON.parse(v.args || "{}");
      const name = v.fn ?? "";
      const kind = v.kind === "auto" ? (kindOf.get(name) ?? "query").toLowerCase() : v.kind;
      const client = httpClient(s);
      const started = performance.now();
      let value: unknown;
      if (kind === "mutation") value = await client.mutation(ref<"mutation">(name), args as Record<string, never>);
      else if (kind === "action") value = await client.action(ref<"action">(name), args as Record<string, never>);
      else value = await client.query(ref<"query">(name), args as Record<string, never>);
      result.textContent = JSON.stringify(value, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x), 2) ?? "null";
      status.ok(`${name} (${kind}) finished in ${Math.round(performance.now() - started)} ms.`);
    },
  );
  const area = form.querySelector<HTMLTextAreaElement>("textarea[name=args]");
  if (area) area.value = "{}";
  const fnInput = form.querySelector<HTMLInputElement>("input[name=fn]");
  const asJson = form.querySelector<HTMLInputElement>("input[name=asJson]") as HTMLInputElement;
  const jsonField = area?.closest<HTMLElement>(".field") ?? null;
  /** The typed form of the chosen function's validator, or the JSON box when it has none. */
  let shownFor = "";
  function showArgs(): void {
    const key = `${fnInput?.value ?? ""}|${asJson.checked}|${argsOf.size}`;
    if (key === shownFor) return; // keep what the user typed: only a new function rebuilds
    shownFor = key;
    const typedForm = argsForm(argsOf.get(fnInput?.value ?? "") ?? null);
    current = asJson.checked ? null : typedForm;
    replace(typed, current?.el ?? null);
    // style, not `hidden`: the .field rule's display would override the attribute
    if (jsonField) jsonField.style.display = current !== null ? "none" : "";
    const toggle = asJson.closest<HTMLElement>("label");
    if (toggle) toggle.style.display = typedForm === null ? "none" : "";
  }
  fnInput?.addEventListener("input", showArgs);
  fnInput?.addEventListener("change", showArgs);
  asJson.addEventListener("change", () => {
    if (asJson.checked && current && area) {
      try {
        area.value = JSON.stringify(current.values(), (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x), 2);
      } catch { /* a half-filled field: keep the JSON box as it was */ }
    }
    showArgs();
  });
  return page(`${p.name}: functions`, dashboardTabs(p.name, `/deployments/${p.name}/functions`), datalist, refresh, list, form, h("h2", {}, "Result"), result);
}

/** The CLI's StructuredLogLine, or the older plain "[LEVEL] text" string. */
type LogLine = string | { messages?: string[]; level?: string; isTruncated?: boolean };

function logLineText(line: LogLine): string {
  if (typeof line === "string") return line;
  const text = (line.messages ?? []).join(" ");
  return `[${line.level ?? "LOG"}] ${text}${line.isTruncated ? " (truncated)" : ""}`;
}

interface LogEntry {
  kind?: string;
  udfType?: string;
  identifier?: string;
  logLines?: LogLine[];
  timestamp?: number;
  executionTime?: number;
  error?: string | null;
}

const LEVELS = ["DEBUG", "LOG", "INFO", "WARN", "ERROR"];

/** The level of one log line ("[WARN] text" strings or structured lines). */
function lineLevel(line: LogLine): string {
  if (typeof line !== "string") return (line.level ?? "LOG").toUpperCase();
  const m = /^\[(\w+)\]/.exec(line);
  return (m?.[1] ?? "LOG").toUpperCase();
}

interface LogFilter {
  fn: string;
  level: string; // "" (any), "failed", or a minimum line level
  text: string;
}

/** Whether an execution passes the filters (function, level, free text), as Convex's logs page. */
export function logMatches(e: LogEntry, f: LogFilter): boolean {
  const fn = (e.identifier ?? e.kind ?? "").toLowerCase();
  if (f.fn && !fn.includes(f.fn.toLowerCase())) return false;
  if (f.level === "failed" && !e.error) return false;
  if (f.level && f.level !== "failed") {
    const min = LEVELS.indexOf(f.level);
    const hit = Boolean(e.error && f.level === "ERROR") || (e.logLines ?? []).some((l) => LEVELS.indexOf(lineLevel(l)) >= min);
    if (!hit) return false;
  }
  if (f.text) {
    const needle = f.text.toLowerCase();
    const hay = [fn, e.error ?? "", ...(e.logLines ?? []).map(logLineText)].join("\n").toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

export async function logsView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  // The list keeps its list semantics; the live "log" role sits on its container.
  const log = h("ol", { class: "logs", "data-testid": "logs" });
  const logRegion = h("div", { role: "log", "aria-label": "Function logs", "aria-live": "polite" }, log);
  const state = h("p", { class: "muted", "data-testid": "logs-state" }, "Waiting for function executions…");
  const pause = h("button", { type: "button", class: "secondary", "aria-pressed": "false" }, "Pause");
  const kept: LogEntry[] = []; // newest first, at most 500; the filters re-render from these
  const filter: LogFilter = { fn: "", level: "", text: "" };
  let paused = false;
  let frozen: LogEntry[] = []; // what was on screen when Pause was pressed
  let held = 0;
  const showPaused = (): void => {
    state.textContent = `Paused${held ? `: ${held} new execution${held === 1 ? "" : "s"} waiting` : ""}.`;
  };
  const render = (): void => {
    const shown = (paused ? frozen : kept).filter((e) => logMatches(e, filter));
    replace(log, shown.map(logRow));
    if (paused) showPaused();
    else state.textContent = `Streaming. Showing ${shown.length} of ${kept.length} executions.`;
  };
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    if (paused) frozen = kept.slice();
    else held = 0;
    render();
  });
  const fnFilter = h("input", { type: "search", id: newId("lf"), placeholder: "messages:send", autocomplete: "off" });
  const levelFilter = h("select", { id: newId("ll") },
    h("option", { value: "" }, "Any"), h("option", { value: "failed" }, "Failed executions"),
    LEVELS.map((l) => h("option", { value: l }, `${l} and above`)));
  const textFilter = h("input", { type: "search", id: newId("lt"), autocomplete: "off" });
  const onFilter = (): void => {
    filter.fn = fnFilter.value.trim();
    filter.level = levelFilter.value;
    filter.text = textFilter.value.trim();
    render();
  };
  for (const el of [fnFilter, textFilter]) el.addEventListener("input", onFilter);
  levelFilter.addEventListener("change", onFilter);
  const filters = h("div", { class: "row filters", role: "search", "aria-label": "Filter logs" },
    h("div", { class: "field" }, h("label", { for: fnFilter.id }, "Function"), fnFilter),
    h("div", { class: "field" }, h("label", { for: levelFilter.id }, "Level"), levelFilter),
    h("div", { class: "field" }, h("label", { for: textFilter.id }, "Text"), textFilter),
  );
  const controller = new AbortController();
  cleanups.push(() => controller.abort());
  const poll = async (): Promise<void> => {
    let cursor = 0;
    while (!controller.signal.aborted) {
      try {
        const r = await deploymentFetch(s, `/api/stream_function_logs?cursor=${cursor}`, { signal: controller.signal });
        const data = (await r.json()) as { entries: LogEntry[]; newCursor: number };
        cursor = data.newCursor;
        for (const e of data.entries) kept.unshift(e);
        kept.splice(500);
        if (paused) {
          held += data.entries.length;
          showPaused();
        } else render();
        if (data.entries.length === 0) await sleep(1000, controller.signal);
      } catch (err) {
        if (controller.signal.aborted) return;
        state.textContent = `Log stream interrupted (${errorText(err)}); retrying…`;
        await sleep(3000, controller.signal);
      }
    }
  };
  void poll();
  return page(`${p.name}: logs`, dashboardTabs(p.name, `/deployments/${p.name}/logs`), filters, h("div", { class: "row" }, pause, state), logRegion);
}

function logRow(e: LogEntry): HTMLElement {
  const when = e.timestamp ? new Date(e.timestamp * 1000).toLocaleTimeString() : "";
  const failed = Boolean(e.error);
  return h("li", { class: failed ? "log-error" : "" },
    h("span", { class: "muted" }, when), " ",
    h("strong", {}, e.identifier ?? e.kind ?? "?"), " ",
    h("span", { class: "badge" }, (e.udfType ?? "").toLowerCase()), " ",
    e.executionTime !== undefined ? h("span", { class: "muted" }, `${Math.round(e.executionTime * 1000)} ms`) : null,
    failed ? h("div", { class: "status error" }, e.error ?? "") : null,
    (e.logLines ?? []).map((l) => h("div", {}, h("code", {}, logLineText(l)))),
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = window.setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { window.clearTimeout(t); resolve(); }, { once: true });
  });
}

type Job = Row & { name?: string; args?: unknown[]; scheduledTime?: number; completedTime?: number; state?: { kind?: string; error?: string } };
type Cron = Row & { name?: string; nextTs?: number; cronSpec?: { udfPath?: string; udfArgs?: unknown[]; cronSchedule?: Record<string, unknown> } };

function when(ms: unknown): string {
  return typeof ms === "number" ? new Date(ms).toLocaleString() : "";
}

/** "daily at 04:00 UTC", "every 5 minutes", or the raw spec for other shapes. */
function describeSchedule(spec: Record<string, unknown> | undefined): string {
  if (!spec) return "";
  const pad = (n: unknown): string => String(n).padStart(2, "0");
  if (spec.type === "interval" && typeof spec.seconds === "number") return `every ${spec.seconds} s`;
  if (spec.type === "daily") return `daily at ${pad(spec.hourUTC)}:${pad(spec.minuteUTC)} UTC`;
  if (spec.type === "cron") return `cron ${String(spec.cron)}`;
  return showValue(spec);
}

const PAGE_SIZE = 50;

/** A live page of a (system) table, newest first, with Previous/Next: each page stays a
 * subscription, so rows appear and change while the user reads. */
function liveRows<T extends Row>(s: AdminSession, tableName: string, region: HTMLElement, render: (docs: T[]) => Node, label = tableName): void {
  const cursors: Array<string | null> = [null];
  let next = "";
  let unsubscribe: (() => void) | null = null;
  const body = h("div", {});
  const prev = h("button", { type: "button", class: "secondary small", "aria-label": `Previous page of ${label}` }, "← Previous");
  const more = h("button", { type: "button", class: "secondary small", "aria-label": `Next page of ${label}` }, "Next →");
  const where = h("span", { class: "muted" }, "");
  const pager = h("div", { class: "row pager" }, prev, where, more);
  const load = (): void => {
    unsubscribe?.();
    unsubscribe = liveClient(s).onUpdate(
      SYSTEM.documents,
      { table: tableName, filters: null, paginationOpts: { numItems: PAGE_SIZE, cursor: cursors[cursors.length - 1] ?? null } },
      (r: { page: T[]; isDone: boolean; continueCursor: string }) => {
        next = r.isDone ? "" : r.continueCursor;
        prev.disabled = cursors.length <= 1;
        more.disabled = r.isDone;
        pager.hidden = cursors.length <= 1 && r.isDone;
        where.textContent = `Page ${cursors.length}`;
        replace(body, render(r.page));
      },
      (err: Error) => replace(body, h("p", { class: "status error", role: "alert" }, `Could not load ${label}: ${err.message}`)),
    );
  };
  prev.addEventListener("click", () => { if (cursors.length > 1) { cursors.pop(); load(); } });
  more.addEventListener("click", () => { if (next) { cursors.push(next); load(); } });
  replace(region, body, pager);
  load();
  cleanups.push(() => unsubscribe?.());
}

export async function schedulesView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  const status = statusLine();
  const jobs = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const crons = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const cancel = async (job: Job): Promise<void> => {
    if (!(await confirmDialog(`Cancel ${job.name ?? "the job"} scheduled for ${when(job.scheduledTime)}?`, "Cancel job"))) return;
    try {
      await liveClient(s).mutation(ref<"mutation">("_system/frontend/cancelJob"), { id: job._id });
      announce("Scheduled function canceled");
    } catch (err) { status.fail(err); }
  };
  liveRows<Job>(s, "_scheduled_functions", jobs, (docs) => table("Scheduled functions", ["Function", "Runs at", "State", "Arguments", "Id", "Actions"],
    docs.map((j) => {
      const kind = j.state?.kind ?? "";
      return [h("code", {}, j.name ?? ""), when(j.scheduledTime), h("span", { class: "badge" }, kind), h("code", {}, showValue(j.args?.[0] ?? {})), h("code", {}, j._id),
        kind === "pending" ? h("button", { type: "button", class: "danger small", "aria-label": `Cancel ${j._id}`, onclick: () => void cancel(j) }, "Cancel") : (j.state?.error ? h("span", { class: "status error" }, j.state.error) : "")];
    }), "Nothing scheduled."));
  liveRows<Cron>(s, "_cron_jobs", crons, (docs) => table("Cron jobs", ["Name", "Function", "Schedule", "Next run", "Arguments"],
    docs.map((c) => [c.name ?? "", h("code", {}, c.cronSpec?.udfPath ?? ""), describeSchedule(c.cronSpec?.cronSchedule), when(c.nextTs), h("code", {}, showValue(c.cronSpec?.udfArgs?.[0] ?? {}))]),
    "No cron jobs deployed."));
  return page(`${p.name}: schedules`, dashboardTabs(p.name, `/deployments/${p.name}/schedules`),
    status.el, h("h2", {}, "Scheduled functions"), jobs, h("h2", {}, "Cron jobs"), crons);
}

export async function filesView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  const files = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const status = statusLine();
  const actions = (doc: Row): Node[] => [
    // A cross-origin link: browsers ignore `download`, so open it beside the console.
    h("a", { href: `${s.url}/api/storage/${encodeURIComponent(doc._id)}`, target: "_blank", rel: "noopener", "aria-label": `Download ${doc._id}` }, "Download"),
    document.createTextNode(" "),
    h("button", { type: "button", class: "danger small", "aria-label": `Delete ${doc._id}`, onclick: async () => {
      if (!(await confirmDialog(`Delete file ${doc._id}? Its bytes are removed too.`, "Delete"))) return;
      try {
        await liveClient(s).mutation(ref<"mutation">("_system/frontend/fileStorageV2:deleteFiles"), { storageIds: [doc._id] });
        announce("File deleted");
      } catch (err) { status.fail(err); }
    } }, "Delete"),
  ];
  liveRows<StoredFile>(s, "_storage", files, (docs) => table("Stored files", ["Id", "Uploaded", "Size", "Type", "SHA-256", "Actions"],
    docs.map((f) => [h("code", {}, f._id), fmtDate(new Date(f._creationTime ?? 0).toISOString()), fmtBytes(Number(f.size ?? 0)), f.contentType ?? h("span", { class: "muted" }, "unknown"),
      h("code", { title: f.sha256 ?? "" }, (f.sha256 ?? "").slice(0, 12)), actions(f)]),
    "No files stored yet."), "stored files");
  const progress = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Upload progress" });
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-label": "Upload a file" },
      field("File", { name: "file", type: "file", required: true }),
      h("button", { type: "submit" }, "Upload"), progress, status.el,
    ),
    status,
    async (f) => {
      const input = f.querySelector<HTMLInputElement>("input[type=file]");
      const file = input?.files?.[0];
      if (!file) throw new Error("Choose a file first.");
      const url = (await liveClient(s).mutation(ref<"mutation">("_system/frontend/fileStorageV2:generateUploadUrl"), {})) as string;
      const body = await upload(url, file, file.type || "application/octet-stream", {}, progress);
      status.ok(`Uploaded ${file.name} (${fmtBytes(file.size)}): ${showValue(JSON.parse(body))}`);
      f.reset();
    },
  );
  return page(`${p.name}: files`, dashboardTabs(p.name, `/deployments/${p.name}/files`), h("h2", {}, "Stored files"), files, h("h2", {}, "Upload"), form);
}

interface StoredFile extends Row {
  _creationTime?: number;
  size?: number | bigint;
  contentType?: string | null;
  sha256?: string;
}

/** XHR rather than fetch: it reports upload progress. Resolves with the response text. */
function upload(url: string, file: Blob, type: string, headers: Record<string, string>, progress: HTMLProgressElement): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Content-Type", type);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    progress.hidden = false;
    progress.value = 0;
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener("load", () => {
      progress.hidden = true;
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.responseText);
      else reject(new Error(`Upload failed (${xhr.status}): ${xhr.responseText.slice(0, 300)}`));
    });
    xhr.addEventListener("error", () => {
      progress.hidden = true;
      reject(new Error("Upload failed: network error"));
    });
    xhr.send(file);
  });
}

interface SchemaJson {
  tables?: Array<{ tableName: string; indexes?: Array<{ indexDescriptor: string; fields: string[] }>; searchIndexes?: unknown[]; vectorIndexes?: unknown[] }>;
  schemaValidation?: boolean;
}

export async function schemaView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  const region = h("div", {}, h("p", { class: "muted" }, "Loading schema…"));
  const unsubscribe = liveClient(s).onUpdate(ref<"query">("_system/frontend/getSchemas"), {}, (r: { active: string | null; inProgress: string | null }) => {
    if (!r.active) {
      replace(region, h("p", {}, "No schema deployed: documents are not validated."));
      return;
    }
    const schema = JSON.parse(r.active) as SchemaJson;
    const rows = (schema.tables ?? []).flatMap((t) => (t.indexes ?? []).map((i) => [h("code", {}, t.tableName), h("code", {}, i.indexDescriptor), i.fields.join(", ")]));
    replace(region,
      h("p", {}, `Validation: ${schema.schemaValidation === false ? "off" : "on"}. Tables: ${(schema.tables ?? []).map((t) => t.tableName).join(", ") || "none"}.`),
      r.inProgress ? h("p", { class: "status" }, "A new schema is being validated.") : null,
      h("h2", {}, "Indexes"), table("Indexes", ["Table", "Index", "Fields"], rows, "No indexes."),
      h("h2", {}, "Schema JSON"), h("pre", { class: "result", tabindex: 0 }, JSON.stringify(schema, null, 2)),
    );
  }, (err: Error) => replace(region, h("p", { class: "status error", role: "alert" }, `Could not load the schema: ${err.message}`)));
  cleanups.push(unsubscribe);
  return page(`${p.name}: schema and indexes`, dashboardTabs(p.name, `/deployments/${p.name}/schema`), region);
}

interface ExportState {
  state: string;
  start_ts?: number | bigint;
  complete_ts?: number | bigint;
  progress_message?: string;
}

export async function snapshotsView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  const exportStatus = statusLine();
  const exportState = h("div", { "aria-live": "polite", "data-testid": "export-state" }, h("p", { class: "muted" }, "No export yet."));
  const unsubscribe = liveClient(s).onUpdate(ref<"query">("_system/frontend/latestExport"), {}, (e: ExportState | null) => {
    if (!e) return;
    const done = e.state === "completed" && e.complete_ts !== undefined;
    replace(exportState,
      h("p", {}, `Latest export: ${e.state}${e.progress_message ? ` — ${e.progress_message}` : ""}${done ? ` at ${new Date(Number(e.complete_ts) / 1e6).toLocaleString()}` : ""}`),
      e.state === "requested" || e.state === "in_progress" ? h("progress", { "aria-label": "Export in progress" }) : null,
      done ? h("button", { type: "button", onclick: () => download(s, String(e.complete_ts)).catch((err: unknown) => exportStatus.fail(err)) }, "Download snapshot") : null,
    );
  }, (err: Error) => replace(exportState, h("p", { class: "status error", role: "alert" }, `Could not read export state: ${err.message}`)));
  cleanups.push(unsubscribe);
  const exportForm = onSubmit(
    h("form", { class: "card inline-form", "aria-label": "Export a snapshot" },
      h("label", {}, h("input", { type: "checkbox", name: "includeStorage", checked: true }), " Include file storage"),
      h("button", { type: "submit" }, "Export snapshot"), exportStatus.el,
    ),
    exportStatus,
    async (f) => {
      const include = formValues(f).includeStorage === "on";
      await deploymentFetch(s, `/api/export/request/zip?includeStorage=${include}`, { method: "POST" });
      exportStatus.ok("Export requested.");
    },
  );
  const importStatus = statusLine();
  const progress = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Import upload progress" });
  const importState = h("div", { "aria-live": "polite" });
  const importForm = onSubmit(
    h("form", { class: "card inline-form", "aria-label": "Import a snapshot" },
      field("Snapshot ZIP", { name: "file", type: "file", accept: ".zip,application/zip", required: true }),
      h("div", { class: "field" }, h("label", { for: "import-mode" }, "Mode"),
        h("select", { id: "import-mode", name: "mode" }, h("option", { value: "requireEmpty" }, "Only into empty tables"), h("option", { value: "append" }, "Append"), h("option", { value: "replace" }, "Replace"))),
      h("button", { type: "submit" }, "Import"), progress, importStatus.el, importState,
    ),
    importStatus,
    async (f) => {
      const file = f.querySelector<HTMLInputElement>("input[type=file]")?.files?.[0];
      if (!file) throw new Error("Choose a snapshot ZIP first.");
      const mode = formValues(f).mode ?? "requireEmpty";
      const text = await upload(`${s.url}/api/import?format=zip&mode=${encodeURIComponent(mode)}`, file, "application/zip", { Authorization: `Convex ${s.adminKey}` }, progress);
      const { importId } = JSON.parse(text) as { importId: string };
      importStatus.ok("Uploaded; importing…");
      watchImport(s, importId, importState, importStatus);
    },
  );
  return page(`${p.name}: snapshots`, dashboardTabs(p.name, `/deployments/${p.name}/snapshots`),
    h("h2", {}, "Export"), exportForm, exportState, h("h2", {}, "Import"), importForm);
}

function watchImport(s: AdminSession, importId: string, region: HTMLElement, status: ReturnType<typeof statusLine>): void {
  const unsubscribe = liveClient(s).onUpdate(ref<"query">("_system/cli/queryImport"), { importId }, (r: { state: { state: string; progress_message?: string; error_message?: string } }) => {
    const st = r.state;
    replace(region,
      h("p", {}, `Import ${st.state}${st.progress_message ? `: ${st.progress_message}` : ""}`),
      st.state === "in_progress" || st.state === "uploaded" ? h("progress", { "aria-label": "Import in progress" }) : null,
      st.state === "waiting_for_confirmation" ? h("button", { type: "button", onclick: async () => {
        try {
          await deploymentFetch(s, "/api/perform_import", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ importId }) });
        } catch (err) { status.fail(err); }
      } }, "Confirm import") : null,
      st.error_message ? h("p", { class: "status error", role: "alert" }, st.error_message) : null,
    );
    if (st.state === "completed") status.ok(`Import completed${st.progress_message ? `: ${st.progress_message}` : "."}`);
    if (st.state === "failed") status.fail(new Error(st.error_message ?? "Import failed"));
  }, (err: Error) => status.fail(err));
  cleanups.push(unsubscribe);
}

async function download(s: AdminSession, snapshotTs: string): Promise<void> {
  const r = await deploymentFetch(s, `/api/export/zip/${encodeURIComponent(snapshotTs)}`);
  const blob = await r.blob();
  const a = h("a", { href: URL.createObjectURL(blob), download: `snapshot_${s.deployment.name}_${snapshotTs}.zip` });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export { fmtDate };
