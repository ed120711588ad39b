// Time-series charts (uPlot: small, fast, canvas) with a text alternative: every chart is a
// figure whose caption sums it up and whose data is one click away as a table.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

export interface Series {
  label: string;
  values: Array<number | null>;
  /** Drawn dashed and not listed in the data table: a plan limit, say. */
  reference?: boolean;
}

const COLORS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207"];

/** A line chart over `times` (seconds since the epoch), sized to its container. */
export function lineChart(opts: {
  title: string;
  summary: string;
  times: number[];
  series: Series[];
  yLabel: string;
  format?: (v: number) => string;
  testId?: string;
}): HTMLElement {
  const fmt = opts.format ?? ((v: number) => v.toLocaleString());
  const plot = h("div", { class: "chart-canvas", "aria-hidden": "true" });
  const rows = opts.times.map((t, i) => [
    new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }),
    ...opts.series.filter((s) => !s.reference).map((s) => (s.values[i] === null || s.values[i] === undefined ? "—" : fmt(s.values[i] as number))),
  ]);
  const data = h("details", {},
    h("summary", {}, `Data of “${opts.title}”`),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), opts.series.filter((s) => !s.reference).map((s) => h("th", { scope: "col" }, s.label)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    )),
  );
  const figure = h("figure", { class: "chart", "data-testid": opts.testId ?? null },
    h("figcaption", {}, h("strong", {}, opts.title), " ", h("span", { class: "muted" }, opts.summary)),
    plot, data);
  const draw = (): void => {
    const width = Math.max(280, Math.floor(plot.getBoundingClientRect().width || 640));
    plot.replaceChildren();
    new uPlot({
      width,
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { label: opts.yLabel, values: (_u, ticks) => ticks.map((t) => fmt(t)), size: 84 }],
      series: [
        {},
        ...opts.series.map((s, i) => ({
          label: s.label,
          stroke: s.reference ? "#6b7280" : (COLORS[i % COLORS.length] as string),
          width: s.reference ? 1 : 2,
          dash: s.reference ? [6, 4] : undefined,
          spanGaps: false,
          // Sparse series (a function called a few times) would vanish without their points.
          points: { show: s.values.filter((v) => v !== null && v !== 0).length < 40 },
        })),
      ],
    }, [opts.times, ...opts.series.map((s) => s.values)] as uPlot.AlignedData, plot);
  };
  // Draw once the figure is in the document (its width is known then).
  requestAnimationFrame(() => requestAnimationFrame(draw));
  return figure;
}
