// Teams: list/create, team home with projects, members and invitations, team access tokens.

import {
  type AccessToken,
  type Invite,
  type Member,
  type NewToken,
  type Page,
  type Project,
  type Team,
  get,
  post,
} from "../api";
import { announce, field, fmtDate, formValues, h, replace, select } from "../dom";
import { currentQuery, href, navigate } from "../router";
import { confirmDialog, errorText, loader, onSubmit, page, provisioningProgress, secretBox, statusLine, table, tabs } from "../ui";
import { provisioningStep } from "./projects";

export const ROLES: Array<[string, string]> = [
  ["viewer", "Viewer"],
  ["developer", "Developer"],
  ["admin", "Admin"],
  ["owner", "Owner"],
];

export function teamTabs(teamId: string, current: string): HTMLElement {
  const base = `/teams/${teamId}`;
  return tabs(
    [
      [base, "Projects"],
      [`${base}/members`, "Members"],
      [`${base}/tokens`, "Access tokens"],
      [`${base}/usage`, "Usage & billing"],
      [`${base}/audit`, "Audit log"],
    ],
    current,
    "Team sections",
  );
}

export async function teamsView(): Promise<Node> {
  const teams = await get<Page<Team>>("teams");
  const status = statusLine();
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-labelledby": "new-team" },
      h("h2", { id: "new-team" }, "Create a team"),
      field("Team name", { name: "name", required: true, maxlength: 100 }),
      h("button", { type: "submit" }, "Create team"),
      status.el,
    ),
    status,
    async (f) => {
      const team = await post<Team>("teams/create_team", { name: formValues(f).name });
      announce(`Team ${team.name} created`);
      navigate(`/teams/${team.id}`);
    },
  );
  return page("Your teams",
    teams.items.length === 0
      ? h("p", {}, "You are not in any team yet. Create one to start a project.")
      : h("ul", { class: "cards" }, teams.items.map((t) =>
          h("li", { class: "card" }, h("a", { href: href(`/teams/${t.id}`) }, t.name), h("span", { class: "badge" }, t.plan)))),
    form,
  );
}

export async function teamView(p: { teamId: string }): Promise<Node> {
  const team = await get<Team>(`teams/${p.teamId}`);
  const status = statusLine();
  const list = loader("projects", () => get<Page<Project>>(`teams/${p.teamId}/projects`), (projects) =>
    projects.items.length === 0
      ? h("p", { class: "muted" }, "No projects yet.")
      : h("ul", { class: "cards", "aria-label": "Projects" }, projects.items.map((pr) =>
          h("li", { class: "card" }, h("a", { href: href(`/projects/${pr.id}`) }, pr.name), h("span", { class: "muted" }, ` created ${fmtDate(pr.createdAt)}`)))),
  );
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-labelledby": "new-project" },
      h("h2", { id: "new-project" }, "Create a project"),
      field("Project name", { name: "projectName", required: true, maxlength: 100 }),
      select("First deployment", "deploymentType", [["dev", "Development"], ["prod", "Production"], ["", "None for now"]], "dev"),
      select("Storage", "storage", [["sqlite", "SQLite"], ["postgres", "PostgreSQL"], ["mysql", "MySQL"]], "sqlite"),
      h("button", { type: "submit" }, "Create project"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      const body: Record<string, string> = { projectName: v.projectName ?? "", storage: v.storage ?? "sqlite" };
      if (v.deploymentType) body.deploymentType = v.deploymentType;
      const progress = body.deploymentType
        ? provisioningProgress("Creating the project and its deployment", () => provisioningStep(`teams/${p.teamId}/list_deployments`))
        : null;
      if (progress) f.append(progress.el);
      try {
        const created = await post<{ projectId: number }>(`teams/${p.teamId}/create_project`, body);
        announce("Project created");
        navigate(`/projects/${created.projectId}`);
      } finally {
        progress?.stop();
      }
    },
  );
  return page(team.name, teamTabs(p.teamId, `/teams/${p.teamId}`), h("h2", {}, "Projects"), list, form);
}

export async function membersView(p: { teamId: string }): Promise<Node> {
  const team = await get<Team>(`teams/${p.teamId}`);
  const status = statusLine();
  const members = h("div", {});
  const invites = h("div", {});
  const refresh = (): void => {
    replace(members, loader("members", () => get<Page<Member>>(`teams/${p.teamId}/list_members`), (page_) =>
      table("Team members", ["Email", "Role", ""], page_.items.map((m) => [
        m.email,
        roleSelect(m, async (role) => {
          await post(`teams/${p.teamId}/update_team_member_role`, { memberId: m.id, role });
          announce(`${m.email} is now ${role}`);
        }, status),
        h("button", { type: "button", class: "danger small", "aria-label": `Remove ${m.email}`, onclick: async () => {
          if (!(await confirmDialog(`Remove ${m.email} from ${team.name}?`, "Remove"))) return;
          try {
            await post(`teams/${p.teamId}/remove_team_member`, { memberId: m.id });
            announce(`${m.email} removed`);
            refresh();
          } catch (err) { status.fail(err); }
        } }, "Remove"),
      ]), "No members.")));
    replace(invites, loader("invitations", () => get<Page<Invite>>(`teams/${p.teamId}/list_pending_invites`), (page_) =>
      table("Pending invitations", ["Email", "Role", "Expires", ""], page_.items.map((i) => [
        i.email, i.role, fmtDate(i.expiresAt),
        h("button", { type: "button", class: "secondary small", "aria-label": `Cancel invitation for ${i.email}`, onclick: async () => {
          try {
            await post(`teams/${p.teamId}/cancel_team_member_invite`, { inviteId: i.id });
            refresh();
          } catch (err) { status.fail(err); }
        } }, "Cancel"),
      ]), "No pending invitations.")));
  };
  refresh();
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-labelledby": "invite" },
      h("h2", { id: "invite" }, "Invite a member"),
      field("Email", { name: "email", type: "email", required: true }),
      select("Role", "role", ROLES, "developer"),
      h("button", { type: "submit" }, "Send invitation"),
    ),
    status,
    async (f) => {
      const v = formValues(f);
      await post(`teams/${p.teamId}/invite_team_member`, { email: v.email, role: v.role });
      status.ok(`Invitation sent to ${v.email}.`);
      f.reset();
      refresh();
    },
  );
  return page(`${team.name}: members`, teamTabs(p.teamId, `/teams/${p.teamId}/members`),
    status.el, h("h2", {}, "Members"), members, h("h2", {}, "Invitations"), invites, form);
}

function roleSelect(m: Member, change: (role: string) => Promise<void>, status: ReturnType<typeof statusLine>): HTMLElement {
  const sel = h("select", { "aria-label": `Role of ${m.email}` }, ROLES.map(([v, t]) => h("option", { value: v, selected: v === m.role }, t)));
  sel.addEventListener("change", async () => {
    try {
      await change(sel.value);
    } catch (err) {
      status.fail(err);
      sel.value = m.role;
    }
  });
  return sel;
}

export function acceptInviteView(): Node {
  const status = statusLine();
  return page("Accept an invitation", onSubmit(
    h("form", { class: "card narrow" },
      field("Invitation token", { name: "token", required: true, value: currentQuery().get("token") ?? "" }, "Filled in from the link in your invitation email."),
      h("button", { type: "submit" }, "Join team"),
      status.el,
    ),
    status,
    async (f) => {
      const team = await post<Team>("invites/accept", { token: (formValues(f).token ?? "").trim() });
      navigate(`/teams/${team.id}`);
    },
  ));
}

/** Team or personal access tokens: list, create (secret shown once), revoke. */
export function tokenManager(opts: { list: string; create: string; remove: string; withRole: boolean; label: string }): HTMLElement {
  const wrap = h("div", {});
  const status = statusLine();
  const listEl = h("div", {});
  const secret = h("div", {});
  const refresh = (): void => {
    replace(listEl, loader(opts.label, () => get<Page<AccessToken>>(opts.list), (page_) =>
      table(opts.label, ["Name", "Role", "Created", "Last used", "Expires", ""], page_.items.map((t) => [
        t.name, opts.withRole ? t.role : "—", fmtDate(t.createdAt), fmtDate(t.lastUsedAt), fmtDate(t.expiresAt),
        h("button", { type: "button", class: "danger small", "aria-label": `Revoke ${t.name}`, onclick: async () => {
          if (!(await confirmDialog(`Revoke token ${t.name}? Anything using it stops working.`, "Revoke"))) return;
          try {
            await post(opts.remove, { tokenId: t.id });
            announce(`${t.name} revoked`);
            refresh();
          } catch (err) { status.fail(err); }
        } }, "Revoke"),
      ]), `No ${opts.label.toLowerCase()}.`)));
  };
  refresh();
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-label": `Create ${opts.label}` },
      field("Token name", { name: "name", required: true, maxlength: 100 }),
      opts.withRole ? select("Role", "role", ROLES.filter(([r]) => r !== "owner"), "developer") : null,
      field("Expires in days (optional)", { name: "expiresInDays", type: "number", min: 1, max: 3650 }),
      h("button", { type: "submit" }, "Create token"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      const body: Record<string, unknown> = { name: v.name };
      if (v.role) body.role = v.role;
      if (v.expiresInDays) body.expiresInDays = Number(v.expiresInDays);
      const token = await post<NewToken>(opts.create, body);
      replace(secret, secretBox(`Token ${token.name}`, token.accessToken, "new-token"));
      f.reset();
      refresh();
    },
  );
  wrap.append(secret, listEl, form);
  return wrap;
}

export async function teamTokensView(p: { teamId: string }): Promise<Node> {
  const team = await get<Team>(`teams/${p.teamId}`);
  const base = `teams/${p.teamId}`;
  return page(`${team.name}: access tokens`, teamTabs(p.teamId, `/teams/${p.teamId}/tokens`),
    h("p", {}, "Team tokens call the management API as the team (for CI or Terraform)."),
    tokenManager({ list: `${base}/list_access_tokens`, create: `${base}/create_access_token`, remove: `${base}/delete_access_token`, withRole: true, label: "Team access tokens" }),
  );
}

export function accountView(): Node {
  return page("Your account",
    h("h2", {}, "Personal access tokens"),
    h("p", {}, "Personal tokens act as you in every team you belong to."),
    tokenManager({ list: "list_personal_access_tokens", create: "create_personal_access_token", remove: "delete_personal_access_token", withRole: false, label: "Personal access tokens" }),
  );
}

export { errorText };
