// Hash routes ("#/teams/3"): works behind any static server and needs no server-side routes.

export type Params = Record<string, string>;
export type View = (params: Params) => Promise<Node> | Node;
interface Route {
  pattern: RegExp;
  keys: string[];
  view: View;
}

const routes: Route[] = [];

export function route(path: string, view: View): void {
  const keys: string[] = [];
  const source = path.replace(/:(\w+)/g, (_m, key: string) => {
    keys.push(key);
    return "([^/]+)";
  });
  routes.push({ pattern: new RegExp(`^${source}$`), keys, view });
}

/** The route's path, without the query ("#/verify?token=..." is "/verify"). */
export function currentPath(): string {
  const hash = window.location.hash;
  const full = hash.startsWith("#/") ? hash.slice(1) : "/";
  const q = full.indexOf("?");
  return q === -1 ? full : full.slice(0, q);
}

/** The query of the route ("#/verify?token=abc" gives token=abc): links in emails use it. */
export function currentQuery(): URLSearchParams {
  const hash = window.location.hash;
  const q = hash.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : hash.slice(q + 1));
}

/** Path and query, to come back to after logging in. */
export function currentLocation(): string {
  const hash = window.location.hash;
  return hash.startsWith("#/") ? hash.slice(1) : "/";
}

export function match(path: string): { view: View; params: Params } | null {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) {
      const params: Params = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1] ?? "")));
      return { view: r.view, params };
    }
  }
  return null;
}

export function navigate(path: string): void {
  if (currentPath() === path) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = `#${path}`;
}

export function href(path: string): string {
  return `#${path}`;
}
