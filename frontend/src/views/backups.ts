// A deployment's backups: take one now, list them, download, restore into this or another
// deployment of the team (picked in a confirm dialog), delete, and the backup schedule.

import {
  type Backup,
  type BackupSchedule,
  type Deployment,
  type Page,
  type Project,
  type Restore,
  ApiError,
  del,
  download,
  get,
  post,
  put,
} from "../api";
import { announce, field, fmtBytes, fmtDate, formValues, h, replace } from "../dom";
import { confirmDialog, loader, onSubmit, statusLine, table } from "../ui";

const POLL_MS = 1000;

export function backupsSection(dep: Deployment): HTMLElement {
  const status = statusLine();
  const listEl = h("div", {});
  const refresh = (): void => {
    replace(listEl, loader("backups", () => get<Page<Backup>>(`deployments/${dep.name}/list_backups?limit=100`), (page) =>
      table("Backups", ["Taken", "Kind", "Status", "Size", ""], page.items.map((b) => [
        fmtDate(b.createdAt),
        b.kind,
        h("span", { class: `badge status-${b.status}`, title: b.error || null }, b.status),
        b.sizeBytes === null ? "—" : fmtBytes(b.sizeBytes),
        b.status === "completed" ? backupActions(dep, b, status, refresh) : "",
      ]), "No backups yet.")));
  };
  refresh();
  const now = h("button", { type: "button", onclick: async () => {
    now.disabled = true;
    status.ok("Backing up…");
    try {
      const backup = await post<Backup>(`deployments/${dep.name}/create_backup`);
      const done = await waitUntilSettled(() => get<Backup>(`backups/${backup.id}`));
      if (done.status === "failed") throw new ApiError(`The backup failed: ${done.error}`, "BackupFailed", 0);
      status.ok(`Backup taken (${fmtBytes(done.sizeBytes ?? 0)}).`);
      announce("Backup taken");
    } catch (err) {
      status.fail(err);
    } finally {
      now.disabled = false;
      refresh();
    }
  } }, "Back up now");
  return h("div", { class: "backups" },
    h("p", {}, "A backup holds every table and the file storage. Restoring replaces all data of the deployment you pick."),
    h("div", { class: "row" }, now), status.el,
    listEl,
    h("h3", {}, "Schedule"), scheduleForm(dep),
  );
}

async function waitUntilSettled<T extends { status: string }>(read: () => Promise<T>): Promise<T> {
  for (;;) {
    const value = await read();
    if (value.status !== "pending") return value;
    await new Promise((r) => window.setTimeout(r, POLL_MS));
  }
}

function backupActions(dep: Deployment, b: Backup, status: ReturnType<typeof statusLine>, refresh: () => void): HTMLElement {
  const label = `backup of ${fmtDate(b.createdAt)}`;
  return h("span", { class: "row-actions" },
    h("button", { type: "button", class: "secondary small", "aria-label": `Download ${label}`, onclick: async () => {
      try {
        await download(`backups/${b.id}/download`, `${dep.name}-backup-${b.id}.zip`);
      } catch (err) { status.fail(err); }
    } }, "Download"),
    h("button", { type: "button", class: "secondary small", "aria-label": `Restore ${label}`, onclick: async () => {
      const target = await restoreDialog(dep, label);
      if (target === null) return;
      status.ok(`Restoring into ${target}…`);
      try {
        const started = await post<Restore>(`deployments/${target}/restore_backup`, { backupId: b.id });
        const done = await waitUntilSettled(() => get<Restore>(`restores/${started.id}`));
        if (done.status === "failed") throw new ApiError(`The restore failed: ${done.error}`, "RestoreFailed", 0);
        const n = done.documentsWritten ?? 0;
        status.ok(`Restored ${n} document${n === 1 ? "" : "s"} into ${target}.`);
        announce(`Restored into ${target}`);
      } catch (err) { status.fail(err); }
    } }, "Restore…"),
    h("button", { type: "button", class: "danger small", "aria-label": `Delete ${label}`, onclick: async () => {
      if (!(await confirmDialog(`Delete the ${label}? It cannot be restored afterwards.`, "Delete backup"))) return;
      try {
        await post(`backups/${b.id}/delete`);
        announce("Backup deleted");
        refresh();
      } catch (err) { status.fail(err); }
    } }, "Delete"),
  );
}

/** The team's running deployments, this one first. */
async function restoreTargets(dep: Deployment): Promise<Deployment[]> {
  const project = await get<Project>(`projects/${dep.projectId}`);
  const all = await get<Page<Deployment>>(`teams/${project.teamId}/list_deployments?limit=500`);
  const running = all.items.filter((d) => d.status === "running");
  return [...running.filter((d) => d.name === dep.name), ...running.filter((d) => d.name !== dep.name)];
}

/** A dialog to pick the deployment to restore into and confirm; resolves its name or null. */
async function restoreDialog(dep: Deployment, label: string): Promise<string | null> {
  const targets = await restoreTargets(dep);
  return new Promise((resolve) => {
    const opener = document.activeElement as HTMLElement | null;
    const picker = h("select", { id: "restore-target", name: "target" },
      targets.map((d) => h("option", { value: d.name }, `${d.name} (${d.deploymentType}${d.reference ? `, ${d.reference}` : ""})${d.name === dep.name ? " — this deployment" : ""}`)));
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "restore-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "restore-title" }, `Restore the ${label}`),
        h("div", { class: "field" }, h("label", { for: "restore-target" }, "Restore into"), picker),
        h("p", { class: "status error" }, "Every table of the chosen deployment is replaced by the backup's data."),
        h("div", { class: "row" },
          h("button", { value: "cancel", type: "submit", class: "secondary" }, "Cancel"),
          h("button", { value: "confirm", type: "submit", class: "danger" }, "Replace data and restore"),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm" ? picker.value : null);
      dialog.remove();
      opener?.focus();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

function scheduleForm(dep: Deployment): HTMLElement {
  const status = statusLine();
  const current = h("p", { "data-testid": "backup-schedule" });
  const show = (s: BackupSchedule | null): void => {
    const when = s?.cron ? `On cron "${s.cron}" (UTC)` : `Every ${s?.intervalHours} h`;
    current.textContent = s
      ? `${when}, keeping ${s.retain}; next backup ${fmtDate(s.nextDueAt)}.`
      : "No scheduled backups.";
    remove.hidden = s === null;
  };
  const remove = h("button", { type: "button", class: "secondary", hidden: true, onclick: async () => {
    try {
      await del(`deployments/${dep.name}/backup_schedule`);
      show(null);
      announce("Backup schedule removed");
    } catch (err) { status.fail(err); }
  } }, "Stop scheduled backups");
  get<BackupSchedule>(`deployments/${dep.name}/backup_schedule`).then(show, (err: unknown) => {
    if (err instanceof ApiError && err.status === 404) show(null);
    else status.fail(err);
  });
  const form = onSubmit(
    h("form", { class: "card inline-form", "aria-label": "Backup schedule" },
      field("Every (hours)", { name: "intervalHours", type: "number", min: 1, max: 8784, value: 24 }),
      field("Or at cron times (UTC)", { name: "cron", maxlength: 100, autocomplete: "off", placeholder: "0 3 * * *" }, "Five fields: minute hour day month weekday. When set, it is used instead of the interval."),
      field("Backups kept", { name: "retain", type: "number", min: 1, max: 1000, value: 7, required: true }, "Older scheduled backups are deleted; backups taken by hand are kept."),
      h("button", { type: "submit" }, "Save schedule"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      const cron = (v.cron ?? "").trim();
      const when = cron ? { cron } : { intervalHours: Number(v.intervalHours) };
      const saved = await put<BackupSchedule>(`deployments/${dep.name}/backup_schedule`, { ...when, retain: Number(v.retain) });
      show(saved);
      status.ok("Schedule saved.");
    },
  );
  return h("div", {}, current, remove, form);
}
