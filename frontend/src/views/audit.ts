// A team's audit log: who did what and when, filtered by action, actor and time, paged.

import { type Page, type Team, get } from "../api";
import { field, fmtDate, formValues, h, replace, select } from "../dom";
import { onSubmit, page, statusLine, table } from "../ui";
import { teamTabs } from "./teams";

interface AuditEvent {
  id: number;
  action: string;
  actorEmail: string | null;
  actorToken: string;
  targetType: string;
  targetId: string;
  metadata: Record<string, unknown>;
  createdAt: string;
}

/** The actions people filter by most, as prefixes ("deployment." is every deployment action). */
const ACTION_GROUPS: Array<[string, string]> = [
  ["", "All actions"],
  ["deployment.", "Deployments"],
  ["project.", "Projects"],
  ["team.", "Team and members"],
  ["deploy_key.", "Deploy keys"],
  ["team_token.", "Team access tokens"],
  ["backup.", "Backups"],
];

function details(e: AuditEvent): string {
  const parts = Object.entries(e.metadata).filter(([, v]) => v !== "" && v !== null).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`);
  return parts.join("; ");
}

export async function auditView(p: { teamId: string }): Promise<Node> {
  const team = await get<Team>(`teams/${p.teamId}`);
  const status = statusLine();
  const results = h("div", { "data-testid": "audit-events" });
  let query = "";
  let rows: AuditEvent[] = [];
  const more = h("button", { type: "button", class: "secondary" }, "Load older events");
  const render = (next: number | null): void => {
    more.style.display = next === null ? "none" : "";
    more.dataset.cursor = next === null ? "" : String(next);
    replace(results, table("Audit log", ["When", "Action", "Actor", "Target", "Details"], rows.map((e) => [
      fmtDate(e.createdAt),
      h("code", {}, e.action),
      e.actorEmail ?? (e.actorToken ? `token ${e.actorToken}` : "system"),
      `${e.targetType} ${e.targetId}`,
      details(e),
    ]), "No events match these filters."));
  };
  const load = async (cursor: string): Promise<void> => {
    const sep = query ? "&" : "";
    const page_ = await get<Page<AuditEvent>>(`teams/${p.teamId}/list_audit_log_events?${query}${sep}limit=50${cursor ? `&cursor=${cursor}` : ""}`);
    rows = cursor ? rows.concat(page_.items) : page_.items;
    render(page_.nextCursor);
  };
  more.addEventListener("click", () => void load(more.dataset.cursor ?? "").catch((err: unknown) => status.fail(err)));
  const form = onSubmit(
    h("form", { class: "card inline-form", role: "search", "aria-label": "Filter the audit log" },
      select("Action", "action", ACTION_GROUPS, ""),
      field("Actor email", { name: "actor", type: "email", autocomplete: "off" }),
      field("From", { name: "since", type: "date" }),
      field("Until", { name: "until", type: "date" }, "Up to the start of this day."),
      h("button", { type: "submit" }, "Filter"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      const params = new URLSearchParams();
      if (v.action) params.set("action", v.action);
      if (v.actor) params.set("actor", v.actor);
      if (v.since) params.set("since", new Date(`${v.since}T00:00:00`).toISOString());
      if (v.until) params.set("until", new Date(`${v.until}T00:00:00`).toISOString());
      query = params.toString();
      await load("");
    },
  );
  await load("");
  return page(`${team.name}: audit log`, teamTabs(p.teamId, `/teams/${p.teamId}/audit`), form, results, more);
}
