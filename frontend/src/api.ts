// The control plane's /v1 REST API, called with the personal access token issued at login.

const TOKEN_KEY = "strata.token";
const EMAIL_KEY = "strata.email";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: number | null;
}
export interface Team {
  id: number;
  name: string;
  slug: string;
  plan: string;
}
export interface Member {
  id: number;
  email: string;
  role: string;
}
export interface Invite {
  id: number;
  email: string;
  role: string;
  expiresAt: string;
}
export interface Project {
  id: number;
  teamId: number;
  name: string;
  slug: string;
  createdAt: string;
}
export interface Deployment {
  name: string;
  projectId: number;
  deploymentType: string;
  status: string;
  statusReason: string;
  reference: string;
  storage: string;
  deploymentUrl: string;
  hostUrl: string;
  createdAt: string;
  purgeAfter: string | null;
}
export interface DeployKey {
  id: string;
  name: string;
  allowedActions: string[];
  createdAt: string;
}
export interface Backup {
  id: number;
  deploymentName: string;
  kind: "manual" | "scheduled";
  status: "pending" | "completed" | "failed";
  error: string;
  sizeBytes: number | null;
  sha256: string;
  createdAt: string;
  completedAt: string | null;
}
export interface Restore {
  id: number;
  backupId: number | null;
  targetDeployment: string;
  status: "pending" | "completed" | "failed";
  error: string;
  documentsWritten: number | null;
}
export interface BackupSchedule {
  deploymentName: string;
  intervalHours: number | null;
  cron: string;
  retain: number;
  nextDueAt: string;
}
export interface AccessToken {
  id: string;
  name: string;
  kind: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}
export interface NewToken {
  accessToken: string;
  tokenId: string;
  name: string;
}
export interface Usage {
  periodStart: string;
  functionCalls: number;
  dbBytesRead: number;
  dbBytesWritten: number;
  storageBytes: number;
  actionComputeMbMs: number;
  actionGbHours: number;
}
export interface TeamUsage {
  plan: string;
  usage: Usage;
  overQuota: string[];
  limits?: Record<string, number | null>;
}

export const session = {
  get token(): string | null {
    return localStorage.getItem(TOKEN_KEY);
  },
  get email(): string | null {
    return localStorage.getItem(EMAIL_KEY);
  },
  set(token: string, email: string): void {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(EMAIL_KEY, email);
  },
  clear(): void {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(EMAIL_KEY);
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith("strata.")) sessionStorage.removeItem(key);
    }
  },
};

/** Called when the server rejects the token, so the app can send the user to log in. */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export async function call<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new ApiError("Could not reach the server; check your connection.", "NetworkError", 0);
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data ?? {}) as { code?: string; message?: string };
    if (response.status === 401 && token) onUnauthorized();
    throw new ApiError(
      err.message ?? `Request failed (${response.status})`,
      err.code ?? "HttpError",
      response.status,
    );
  }
  return data as T;
}

export const get = <T>(path: string): Promise<T> => call<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}): Promise<T> =>
  call<T>("POST", path, body);
export const put = <T>(path: string, body: unknown): Promise<T> => call<T>("PUT", path, body);
export const del = <T>(path: string): Promise<T> => call<T>("DELETE", path);

/** A binary download with the token (a plain link cannot send it): saved via a blob URL. */
export async function download(path: string, filename: string): Promise<void> {
  const headers: Record<string, string> = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  const response = await fetch(`/v1/${path}`, { headers, credentials: "omit" });
  if (!response.ok) {
    const err = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    throw new ApiError(err.message ?? `Download failed (${response.status})`, err.code ?? "HttpError", response.status);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
