// Per-deployment dashboard plumbing: tabs, an admin key for this browser session, and the
// official `convex` clients (WebSocket for live queries, HTTP for one-off calls).

import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { type Deployment, get, post } from "../api";
import { tabs } from "../ui";

export function dashboardTabs(name: string, current: string): HTMLElement {
  const base = `/deployments/${name}`;
  return tabs(
    [
      [base, "Settings"],
      [`${base}/data`, "Data"],
      [`${base}/health`, "Health"],
      [`${base}/functions`, "Functions"],
      [`${base}/logs`, "Logs"],
      [`${base}/schedules`, "Schedules"],
      [`${base}/files`, "Files"],
      [`${base}/schema`, "Schema"],
      [`${base}/snapshots`, "Snapshots"],
    ],
    current,
    "Deployment sections",
  );
}

export interface AdminSession {
  deployment: Deployment;
  url: string;
  adminKey: string;
}

/** A deploy key with all actions, minted once per browser session and deployment. */
export async function adminSession(name: string): Promise<AdminSession> {
  const deployment = await get<Deployment>(`deployments/${name}`);
  if (deployment.status === "deleted") {
    throw new Error(`Deployment ${name} is deleted: its data is no longer served.`);
  }
  if (deployment.status === "paused" || deployment.status === "failed") {
    throw new Error(`Deployment ${name} is ${deployment.status}: resume it in Settings to see its data.`);
  }
  const storageKey = `strata.adminKey.${name}`;
  let adminKey = sessionStorage.getItem(storageKey);
  if (!adminKey) {
    const created = await post<{ deployKey: string }>(`deployments/${name}/create_deploy_key`, {
      name: `console session ${new Date().toISOString().slice(0, 19)}`,
    });
    adminKey = created.deployKey;
    sessionStorage.setItem(storageKey, adminKey);
  }
  return { deployment, url: deployment.deploymentUrl, adminKey };
}

/** Subscriptions and polling loops of the panel on screen; stopped when the route changes. */
export const cleanups: Array<() => void> = [];
export function leavePanel(): void {
  while (cleanups.length) cleanups.pop()?.();
}

/** `setAdminAuth` exists on both official clients but is marked internal in their typings. */
interface AdminAuthable {
  setAdminAuth(key: string): void;
}

let live: { url: string; client: ConvexClient } | null = null;

/** One shared WebSocket client per deployment; closed when the user leaves the dashboard. */
export function liveClient(s: AdminSession): ConvexClient {
  if (live && live.url === s.url) return live.client;
  closeLiveClient();
  const client = new ConvexClient(s.url, { unsavedChangesWarning: false });
  (client as unknown as AdminAuthable).setAdminAuth(s.adminKey);
  live = { url: s.url, client };
  return client;
}

export function closeLiveClient(): void {
  if (live) {
    void live.client.close();
    live = null;
  }
}

export function httpClient(s: AdminSession): ConvexHttpClient {
  const client = new ConvexHttpClient(s.url);
  (client as unknown as AdminAuthable).setAdminAuth(s.adminKey);
  return client;
}

/** Authenticated fetch against the deployment's own HTTP API (logs, export, import). */
export async function deploymentFetch(s: AdminSession, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Convex ${s.adminKey}`);
  const response = await fetch(`${s.url}${path}`, { ...init, headers });
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      const data = JSON.parse(text) as { message?: string };
      message = data.message ?? text;
    } catch {
      /* plain text error */
    }
    throw new Error(`${response.status}: ${message || response.statusText}`);
  }
  return response;
}
