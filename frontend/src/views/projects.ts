// A project's deployments (create, list) and one deployment's settings: status, URL, keys,
// environment variables, pause/unpause/delete and usage.

import {
  type DeployKey,
  type Deployment,
  type Page,
  type Project,
  type Usage,
  get,
  post,
} from "../api";
import { announce, field, fmtBytes, fmtDate, formValues, h, replace, select } from "../dom";
import { href, navigate } from "../router";
import { confirmDialog, copyable, loader, onSubmit, page, provisioningProgress, secretBox, statusLine, table } from "../ui";
import { backupsSection } from "./backups";
import { dashboardTabs } from "./dashboard";
import { usageBars } from "./usage";

export async function projectView(p: { projectId: string }): Promise<Node> {
  const project = await get<Project>(`projects/${p.projectId}`);
  const status = statusLine();
  const list = loader("deployments", () => get<Page<Deployment>>(`projects/${p.projectId}/list_deployments`), (deps) =>
    table("Deployments", ["Name", "Type", "Status", "URL"], deps.items.map((d) => [
      h("a", { href: href(`/deployments/${d.name}`) }, d.name),
      d.deploymentType + (d.reference ? ` (${d.reference})` : ""),
      h("span", { class: `badge status-${d.status}`, "data-testid": `status-${d.name}` }, d.status),
      copyable(d.deploymentUrl, `URL of ${d.name}`),
    ]), "No deployments yet."),
  );
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-labelledby": "new-dep" },
      h("h2", { id: "new-dep" }, "Create a deployment"),
      select("Type", "type", [["dev", "Development"], ["prod", "Production"], ["preview", "Preview"]], "dev"),
      field("Reference (optional)", { name: "reference", pattern: "[A-Za-z0-9][A-Za-z0-9._/\\-]{0,99}" }, "E.g. a branch name; needed for previews and for a second deployment of a type."),
      select("Storage", "storage", [["sqlite", "SQLite"], ["postgres", "PostgreSQL"], ["mysql", "MySQL"]], "sqlite"),
      h("button", { type: "submit" }, "Create deployment"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      const progress = provisioningProgress("Creating the deployment", () => provisioningStep(`projects/${p.projectId}/list_deployments`));
      f.append(progress.el);
      try {
        const d = await post<Deployment>(`projects/${p.projectId}/create_deployment`, { type: v.type, reference: v.reference ?? "", storage: v.storage });
        announce(`Deployment ${d.name} created`);
        navigate(`/deployments/${d.name}`);
      } finally {
        progress.stop();
      }
    },
  );
  const del = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!(await confirmDialog(`Delete project ${project.name} and all its deployments?`, "Delete project"))) return;
    try {
      await post(`projects/${p.projectId}/delete`);
      announce("Project deleted");
      navigate(`/teams/${project.teamId}`);
    } catch (err) { status.fail(err); }
  } }, "Delete project");
  return page(project.name,
    h("p", {}, h("a", { href: href(`/teams/${project.teamId}`) }, "← Team projects")),
    h("h2", {}, "Deployments"), list, form,
    h("h2", {}, "Danger zone"), del,
  );
}

/** What a deployment being provisioned is doing now, from a list of deployments. */
export async function provisioningStep(listPath: string): Promise<string | null> {
  const deps = await get<Page<Deployment>>(listPath);
  const starting = deps.items.find((d) => d.status === "provisioning");
  return starting ? `${starting.name}: ${starting.statusReason || "provisioning"}` : null;
}

/** A deleted deployment: what happened and when its data goes, no live forms or tabs. */
function deletedDeploymentView(dep: Deployment): Node {
  return page(`Deployment ${dep.name}`,
    h("p", {}, h("a", { href: href(`/projects/${dep.projectId}`) }, "← Project")),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, h("span", { class: "badge status-deleted", "data-testid": "deployment-status" }, "deleted")),
      h("dt", {}, "Data purged"), h("dd", { "data-testid": "purge-after" }, dep.purgeAfter ? fmtDate(dep.purgeAfter) : "already purged"),
      h("dt", {}, "Type"), h("dd", {}, dep.deploymentType + (dep.reference ? ` (${dep.reference})` : "")),
      h("dt", {}, "Created"), h("dd", {}, fmtDate(dep.createdAt)),
    ),
    h("p", {}, "This deployment is deleted: it serves no requests, and its keys and environment variables are gone with it."),
    h("h2", {}, "Usage this month"),
    loader("usage", () => get<Usage>(`deployments/${dep.name}/usage`), (u) => usageBars(u, null)),
  );
}

export async function deploymentView(p: { name: string }): Promise<Node> {
  const dep = await get<Deployment>(`deployments/${p.name}`);
  if (dep.status === "deleted") return deletedDeploymentView(dep);
  const status = statusLine();
  const statusBadge = h("span", { class: `badge status-${dep.status}`, "data-testid": "deployment-status" }, dep.status);
  const actions = h("div", { class: "row" });
  const renderActions = (d: Deployment): void => {
    statusBadge.textContent = d.status;
    statusBadge.className = `badge status-${d.status}`;
    const paused = d.status === "paused" || d.status === "failed";
    replace(actions,
      d.status === "deleted" ? h("p", {}, "This deployment is deleted.") : [
        h("button", { type: "button", class: "secondary", onclick: async () => {
          try {
            const next = await post<Deployment>(`deployments/${d.name}/${paused ? "unpause" : "pause"}`);
            announce(`Deployment ${next.status}`);
            renderActions(next);
          } catch (err) { status.fail(err); }
        } }, paused ? "Resume" : "Pause"),
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!(await confirmDialog(`Delete deployment ${d.name}? Its data is kept for the grace period, then purged.`, "Delete deployment"))) return;
          try {
            await post(`deployments/${d.name}/delete`);
            announce("Deployment deleted");
            navigate(`/projects/${d.projectId}`);
          } catch (err) { status.fail(err); }
        } }, "Delete"),
      ]);
  };
  renderActions(dep);
  // Still starting (a Celery worker provisions it): show progress until it runs or fails.
  const starting = dep.status === "provisioning"
    ? provisioningProgress("Starting the deployment", async () => {
        const now = await get<Deployment>(`deployments/${dep.name}`);
        if (now.status !== "provisioning") {
          starting?.stop();
          renderActions(now);
          announce(`Deployment ${now.status}`);
        }
        return now.statusReason || null;
      })
    : null;
  return page(`Deployment ${dep.name}`,
    h("p", {}, h("a", { href: href(`/projects/${dep.projectId}`) }, "← Project")),
    dashboardTabs(dep.name, `/deployments/${dep.name}`),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, statusBadge, dep.statusReason ? ` ${dep.statusReason}` : ""),
      h("dt", {}, "Type"), h("dd", {}, dep.deploymentType + (dep.reference ? ` (${dep.reference})` : "")),
      h("dt", {}, "URL"), h("dd", {}, copyable(dep.deploymentUrl, "deployment URL", "deployment-url")),
      h("dt", {}, "Storage"), h("dd", {}, dep.storage),
      h("dt", {}, "Created"), h("dd", {}, fmtDate(dep.createdAt)),
    ),
    starting?.el ?? null, actions, status.el,
    h("h2", {}, "Deploy keys"),
    h("p", {}, "Use a deploy key with the official CLI: ", h("code", {}, "CONVEX_SELF_HOSTED_URL=<url> CONVEX_SELF_HOSTED_ADMIN_KEY=<key> npx convex deploy")),
    deployKeys(dep),
    h("h2", {}, "Environment variables"), envVars(dep),
    h("h2", {}, "Backups"), backupsSection(dep),
    h("h2", {}, "Usage this month"),
    loader("usage", () => get<Usage>(`deployments/${dep.name}/usage`), (u) => usageBars(u, null)),
  );
}

function deployKeys(dep: Deployment): HTMLElement {
  const status = statusLine();
  const secret = h("div", {});
  const listEl = h("div", {});
  const refresh = (): void => {
    replace(listEl, loader("deploy keys", () => get<Page<DeployKey>>(`deployments/${dep.name}/list_deploy_keys`), (keys) =>
      table("Deploy keys", ["Name", "Allowed actions", "Created", ""], keys.items.map((k) => [
        k.name, k.allowedActions.join(", "), fmtDate(k.createdAt),
        h("button", { type: "button", class: "danger small", "aria-label": `Revoke key ${k.name}`, onclick: async () => {
          if (!(await confirmDialog(`Revoke deploy key ${k.name}?`, "Revoke"))) return;
          try {
            await post(`deployments/${dep.name}/delete_deploy_key`, { id: k.id });
            refresh();
          } catch (err) { status.fail(err); }
        } }, "Revoke"),
      ]), "No deploy keys.")));
  };
  refresh();
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-label": "Create a deploy key" },
      field("Key name", { name: "name", required: true, maxlength: 100 }),
      h("button", { type: "submit" }, "Create deploy key"),
      status.el,
    ),
    status,
    async (f) => {
      const created = await post<DeployKey & { deployKey: string }>(`deployments/${dep.name}/create_deploy_key`, { name: formValues(f).name });
      replace(secret, secretBox(`Deploy key ${created.name}`, created.deployKey, "new-deploy-key"));
      f.reset();
      refresh();
    },
  );
  return h("div", {}, secret, listEl, form);
}

function envVars(dep: Deployment): HTMLElement {
  const status = statusLine();
  const listEl = h("div", {});
  const refresh = (): void => {
    replace(listEl, loader("environment variables", () => get<Page<{ name: string; value: string }>>(`deployments/${dep.name}/list_environment_variables?limit=500`), (vars) =>
      table("Environment variables", ["Name", "Value", ""], vars.items.map((v) => [
        h("code", {}, v.name), h("code", { class: "wrap" }, v.value),
        h("button", { type: "button", class: "danger small", "aria-label": `Delete variable ${v.name}`, onclick: async () => {
          try {
            await post(`deployments/${dep.name}/update_environment_variables`, { changes: [{ name: v.name, value: null }] });
            announce(`${v.name} deleted`);
            refresh();
          } catch (err) { status.fail(err); }
        } }, "Delete"),
      ]), "No environment variables.")));
  };
  refresh();
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-label": "Set an environment variable" },
      field("Name", { name: "name", required: true, pattern: "[A-Za-z_][A-Za-z0-9_]{0,39}", autocomplete: "off" }),
      field("Value", { name: "value", autocomplete: "off" }),
      h("button", { type: "submit" }, "Save variable"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      await post(`deployments/${dep.name}/update_environment_variables`, { changes: [{ name: v.name, value: v.value ?? "" }] });
      status.ok(`${v.name} saved.`);
      f.reset();
      refresh();
    },
  );
  return h("div", {}, listEl, form);
}

export { fmtBytes };
