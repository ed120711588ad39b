// A deployment's health, as Convex's insights show it: calls, failures and latency per
// function over time, from the data plane's per-minute metrics (refreshed every 10 s).

import { lineChart } from "../charts";
import { h, newId, replace } from "../dom";
import { errorText, page, table } from "../ui";
import { adminSession, cleanups, dashboardTabs, deploymentFetch } from "./dashboard";

interface FunctionSeries {
  path: string;
  calls: number[];
  errors: number[];
  p50Ms: Array<number | null>;
  p99Ms: Array<number | null>;
  totalCalls: number;
  totalErrors: number;
  overallP50Ms: number | null;
  overallP99Ms: number | null;
}
interface Metrics {
  bucketMs: number;
  startMs: number;
  buckets: number;
  functions: FunctionSeries[];
}

const ms = (v: number | null): string => (v === null ? "—" : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function charts(m: Metrics, chosen: string): HTMLElement {
  const times = Array.from({ length: m.buckets }, (_, i) => (m.startMs + i * m.bucketMs) / 1000);
  const top = m.functions.slice(0, 5);
  const totalCalls = sum(m.functions.map((f) => f.totalCalls));
  const totalErrors = sum(m.functions.map((f) => f.totalErrors));
  const failing = m.functions.filter((f) => f.totalErrors > 0).slice(0, 5);
  const fn = m.functions.find((f) => f.path === chosen) ?? m.functions[0];
  return h("div", { class: "charts" },
    lineChart({
      title: "Function calls per minute",
      summary: `${totalCalls.toLocaleString()} calls in the window; busiest: ${top.map((f) => `${f.path} (${f.totalCalls})`).join(", ") || "none"}.`,
      times,
      series: top.map((f) => ({ label: f.path, values: f.calls })),
      yLabel: "calls / min",
      testId: "chart-calls",
    }),
    lineChart({
      title: "Failures per minute",
      summary: totalErrors ? `${totalErrors} failed calls (${((100 * totalErrors) / Math.max(1, totalCalls)).toFixed(1)}%).` : "No failed calls in the window.",
      times,
      series: failing.length ? failing.map((f) => ({ label: f.path, values: f.errors })) : [{ label: "all functions", values: times.map(() => 0) }],
      yLabel: "failures / min",
      testId: "chart-errors",
    }),
    fn ? lineChart({
      title: `Latency of ${fn.path}`,
      summary: `p50 ${ms(fn.overallP50Ms)}, p99 ${ms(fn.overallP99Ms)} over the window.`,
      times,
      series: [{ label: "p50", values: fn.p50Ms }, { label: "p99", values: fn.p99Ms }],
      yLabel: "ms",
      format: (v) => (v < 10 ? v.toFixed(1) : `${Math.round(v)}`),
      testId: "chart-latency",
    }) : null,
  );
}

export async function healthView(p: { name: string }): Promise<Node> {
  const s = await adminSession(p.name);
  const region = h("div", { "data-testid": "health" }, h("p", { class: "muted" }, "Loading metrics…"));
  const windowSelect = h("select", { id: newId("win") },
    h("option", { value: "15" }, "Last 15 minutes"), h("option", { value: "60", selected: true }, "Last hour"), h("option", { value: "360" }, "Last 6 hours"));
  const fnSelect = h("select", { id: newId("fn") });
  let last: Metrics | null = null;
  const render = (): void => {
    if (!last) return;
    const m = last;
    const chosen = fnSelect.value;
    replace(fnSelect, m.functions.map((f) => h("option", { value: f.path, selected: f.path === chosen }, f.path)));
    replace(region,
      m.functions.length === 0
        ? h("p", { class: "muted" }, "No function has run in this window.")
        : [
            table("Functions by calls", ["Function", "Calls", "Failures", "Failure rate", "p50", "p99"], m.functions.map((f) => [
              h("code", {}, f.path), f.totalCalls.toLocaleString(), f.totalErrors.toLocaleString(),
              `${((100 * f.totalErrors) / Math.max(1, f.totalCalls)).toFixed(1)}%`, ms(f.overallP50Ms), ms(f.overallP99Ms),
            ]), ""),
            charts(m, fnSelect.value),
          ]);
  };
  const load = async (): Promise<void> => {
    try {
      const r = await deploymentFetch(s, `/api/strata/function_metrics?minutes=${windowSelect.value}`);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      last = (await r.json()) as Metrics;
      render();
    } catch (err) {
      replace(region, h("p", { class: "status error", role: "alert" }, `Could not load metrics: ${errorText(err)}`));
    }
  };
  windowSelect.addEventListener("change", () => void load());
  fnSelect.addEventListener("change", render);
  const timer = window.setInterval(() => void load(), 10_000);
  cleanups.push(() => window.clearInterval(timer));
  void load();
  return page(`${p.name}: health`, dashboardTabs(p.name, `/deployments/${p.name}/health`),
    h("div", { class: "row filters" },
      h("div", { class: "field" }, h("label", { for: windowSelect.id }, "Window"), windowSelect),
      h("div", { class: "field" }, h("label", { for: fnSelect.id }, "Latency of"), fnSelect)),
    region);
}
