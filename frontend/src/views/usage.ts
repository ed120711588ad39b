// Usage charts (accessible SVG bars with text equivalents) and billing (plan, Stripe pages).

import { type Team, type TeamUsage, type Usage, get, post } from "../api";
import { fmtBytes, h, select, formValues } from "../dom";
import { loader, onSubmit, page, statusLine } from "../ui";
import { lineChart } from "../charts";
import { teamTabs } from "./teams";

interface Metric {
  key: string;
  label: string;
  value: number;
  format: (n: number) => string;
}

function metrics(u: Usage): Metric[] {
  const n = (x: number): string => x.toLocaleString();
  return [
    { key: "function_calls", label: "Function calls", value: u.functionCalls, format: n },
    { key: "db_io_bytes", label: "Database I/O", value: u.dbBytesRead + u.dbBytesWritten, format: fmtBytes },
    { key: "storage_bytes", label: "Database storage", value: u.storageBytes, format: fmtBytes },
    { key: "action_gb_hours", label: "Action compute (GB-hours)", value: u.actionGbHours, format: (x) => x.toFixed(4) },
  ];
}

/** One bar per metric, scaled to the plan limit when the server sends limits. */
export function usageBars(u: Usage, limits: Record<string, number | null> | null | undefined): HTMLElement {
  const rows = metrics(u);
  const ns = "http://www.w3.org/2000/svg";
  const list = h("ul", { class: "usage", "aria-label": `Usage since ${u.periodStart}` });
  for (const m of rows) {
    const limit = limits?.[m.key] ?? null;
    const fraction = limit ? Math.min(1, m.value / limit) : m.value > 0 ? 1 : 0;
    const text = limit ? `${m.format(m.value)} of ${m.format(limit)}` : m.format(m.value);
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 6");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "bar");
    const track = document.createElementNS(ns, "rect");
    track.setAttribute("width", "100");
    track.setAttribute("height", "6");
    track.setAttribute("class", "track");
    const fill = document.createElementNS(ns, "rect");
    fill.setAttribute("width", String(Math.max(limit ? fraction * 100 : fraction * 100, 0)));
    fill.setAttribute("height", "6");
    fill.setAttribute("class", limit && m.value > limit ? "fill over" : "fill");
    svg.append(track, fill);
    list.append(h("li", {}, h("span", { class: "metric" }, m.label), h("span", { class: "value" }, text), svg));
  }
  return list;
}

interface PlanInfo {
  name: string;
  purchasable: boolean;
  maxDeployments: number | null;
  functionCalls: number | null;
  dbIoBytes: number | null;
  storageBytes: number | null;
  actionGbHours: number | null;
}
interface TeamBilling {
  teamId: number;
  plan: PlanInfo;
  subscription: { id: string; status: string; plan: string; cancelAtPeriodEnd: boolean } | null;
  hasCustomer: boolean;
  meteredThisMonth: { functionCalls: number; dbIoBytes: number; actionComputeMbMs: number };
}
interface Invoice {
  id: string;
  number: string | null;
  status: string;
  currency: string;
  total: number;
  amountPaid: number;
  created: number;
  periodStart: number | null;
  periodEnd: number | null;
  hostedInvoiceUrl: string | null;
}

const day = (unix: number): string => new Date(unix * 1000).toISOString().slice(0, 10);
const money = (cents: number, currency: string): string =>
  new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() || "USD" }).format(cents / 100);

/** The team's Stripe invoices (GET /v1/teams/<id>/billing/invoices), newest first. */
function invoicesTable(items: Invoice[]): HTMLElement {
  if (items.length === 0) return h("p", { class: "muted", "data-testid": "invoices" }, "No invoices yet.");
  return h("div", { class: "table-wrap", role: "region", "aria-label": "Invoices", tabindex: 0, "data-testid": "invoices" },
    h("table", {},
      h("caption", { class: "visually-hidden" }, "Invoices"),
      h("thead", {}, h("tr", {}, ["Date", "Period", "Invoice", "Status", "Total"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, items.map((inv) => h("tr", {},
        h("td", {}, day(inv.created)),
        h("td", {}, inv.periodStart !== null && inv.periodEnd !== null ? `${day(inv.periodStart)} to ${day(inv.periodEnd)}` : ""),
        h("td", {}, inv.hostedInvoiceUrl ? h("a", { href: inv.hostedInvoiceUrl, rel: "noopener" }, inv.number ?? inv.id) : inv.number ?? inv.id),
        h("td", {}, inv.status),
        h("td", {}, money(inv.total, inv.currency)),
      ))),
    ));
}

function limitsOf(plan: PlanInfo): Record<string, number | null> {
  return {
    function_calls: plan.functionCalls,
    db_io_bytes: plan.dbIoBytes,
    storage_bytes: plan.storageBytes,
    action_gb_hours: plan.actionGbHours,
  };
}

interface DailyUsage {
  day: string;
  functionCalls: number;
  dbBytesRead: number;
  dbBytesWritten: number;
  storageBytes: number;
  actionGbHours: number;
}

/** Month-to-date totals per day against the plan's monthly limits (dashed). */
function dailyCharts(days: DailyUsage[], plan: PlanInfo): HTMLElement {
  const times = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const running = (pick: (d: DailyUsage) => number): number[] => {
    let total = 0;
    return days.map((d) => (total += pick(d)));
  };
  const withLimit = (label: string, values: number[], limit: number | null) =>
    limit === null ? [{ label, values }] : [{ label, values }, { label: "plan limit", values: days.map(() => limit), reference: true }];
  const calls = running((d) => d.functionCalls);
  const io = running((d) => d.dbBytesRead + d.dbBytesWritten);
  const last = (xs: number[]): number => xs[xs.length - 1] ?? 0;
  return h("div", { class: "charts" },
    lineChart({
      title: "Function calls, month to date",
      summary: `${last(calls).toLocaleString()} so far${plan.functionCalls !== null ? ` of ${plan.functionCalls.toLocaleString()}` : ""}.`,
      times, series: withLimit("function calls", calls, plan.functionCalls), yLabel: "calls", testId: "chart-usage-calls",
    }),
    lineChart({
      title: "Database I/O, month to date",
      summary: `${fmtBytes(last(io))} so far${plan.dbIoBytes !== null ? ` of ${fmtBytes(plan.dbIoBytes)}` : ""}.`,
      times, series: withLimit("read + written", io, plan.dbIoBytes), yLabel: "bytes", format: fmtBytes, testId: "chart-usage-io",
    }),
    lineChart({
      title: "Database storage",
      summary: `${fmtBytes(days[days.length - 1]?.storageBytes ?? 0)} now${plan.storageBytes !== null ? ` of ${fmtBytes(plan.storageBytes)}` : ""}.`,
      times, series: withLimit("storage", days.map((d) => d.storageBytes), plan.storageBytes), yLabel: "bytes", format: fmtBytes, testId: "chart-usage-storage",
    }),
  );
}

export async function usageView(p: { teamId: string }): Promise<Node> {
  const team = await get<Team>(`teams/${p.teamId}`);
  const [billingInfo, plans] = await Promise.all([
    get<TeamBilling>(`teams/${p.teamId}/billing`),
    get<PlanInfo[]>("billing/plans"),
  ]);
  return page(`${team.name}: usage and billing`, teamTabs(p.teamId, `/teams/${p.teamId}/usage`),
    h("h2", {}, "This month"),
    loader("usage", () => get<TeamUsage>(`teams/${p.teamId}/usage`), (u) => [
      h("p", {}, "Plan: ", h("strong", { "data-testid": "plan" }, u.plan),
        billingInfo.plan.maxDeployments !== null ? ` (up to ${billingInfo.plan.maxDeployments} deployments)` : ""),
      u.overQuota.length ? h("div", { class: "status error", role: "alert" }, "Over quota: ", u.overQuota.join("; "), ". Deployments stay paused until usage is back under the plan's limits or the plan changes.") : null,
      usageBars(u.usage, limitsOf(billingInfo.plan)),
    ]),
    h("h2", {}, "Day by day"),
    loader("daily usage", () => get<{ items: DailyUsage[] }>(`teams/${p.teamId}/usage/daily`), (d) => dailyCharts(d.items, billingInfo.plan)),
    h("h2", {}, "Billing"),
    billing(p.teamId, billingInfo, plans),
  );
}

/** Stripe Checkout and the customer portal through /v1/teams/<id>/billing/*. */
function billing(teamId: string, info: TeamBilling, plans: PlanInfo[]): HTMLElement {
  const status = statusLine();
  const back = `${window.location.origin}${window.location.pathname}#/teams/${teamId}/usage`;
  const sub = info.subscription;
  const purchasable = plans.filter((pl) => pl.purchasable && pl.name !== info.plan.name);
  const summary = sub
    ? h("p", { "data-testid": "subscription" }, `Subscription: ${sub.plan}, ${sub.status}${sub.cancelAtPeriodEnd ? " (cancels at the end of the period)" : ""}.`)
    : h("p", { "data-testid": "subscription" }, "No paid subscription.");
  const go = async (path: string, body: Record<string, unknown>): Promise<void> => {
    const session = await post<{ url: string }>(`teams/${teamId}/billing/${path}`, body);
    window.location.assign(session.url);
  };
  const subscribed = sub !== null && ["active", "trialing", "past_due"].includes(sub.status);
  const checkout = subscribed
    ? h("p", { class: "muted" }, "To change plans, use Manage billing and invoices.")
    : purchasable.length === 0
    ? h("p", { class: "muted" }, plans.some((pl) => pl.purchasable) ? "No other plan to switch to." : "Paid plans are not available on this server (Stripe is not configured).")
    : onSubmit(
        h("form", { class: "card inline-form", "aria-label": "Change plan" },
          select("Plan", "plan", purchasable.map((pl) => [pl.name, pl.name])),
          h("button", { type: "submit" }, "Continue to checkout"),
          status.el,
        ),
        status,
        async (f) => go("checkout_session", { plan: formValues(f).plan, successUrl: back, cancelUrl: back }),
      );
  const portalStatus = statusLine();
  const portal = info.hasCustomer
    ? h("div", {}, h("button", { type: "button", class: "secondary", onclick: () => {
        go("portal_session", { returnUrl: back }).catch((err: unknown) => portalStatus.fail(err));
      } }, "Manage billing and invoices"), portalStatus.el)
    : null;
  const m = info.meteredThisMonth;
  const metered = sub
    ? h("p", { "data-testid": "metered" }, "Metered usage sent to Stripe this month: ",
        `${m.functionCalls.toLocaleString()} function calls, ${fmtBytes(m.dbIoBytes)} database I/O, `,
        `${m.actionComputeMbMs.toLocaleString()} MB·ms action compute.`)
    : null;
  const invoices = info.hasCustomer
    ? [h("h3", {}, "Invoices"), loader("invoices", () => get<{ items: Invoice[] }>(`teams/${teamId}/billing/invoices`), (d) => invoicesTable(d.items))]
    : [];
  return h("div", {}, summary, metered, checkout, portal, ...invoices);
}
