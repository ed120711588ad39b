// How failing functions look to the official npm clients (unmodified), over HTTP and WebSocket.
// Usage: node errors.mjs <deploymentUrl>; prints one JSON line per observation.
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";

const api = anyApi;
const url = process.argv[2];
const out = (obj) =>
  process.stdout.write(JSON.stringify(obj, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) + "\n");
setTimeout(() => {
  out({ error: "timed out" });
  process.exit(1);
}, 60_000);

async function observe(transport, kind, fn, call) {
  try {
    await call();
    out({ transport, fn, threw: false });
  } catch (e) {
    out({
      transport,
      fn,
      threw: true,
      isConvexError: e instanceof ConvexError,
      name: e.name,
      message: e.message,
      data: e.data === undefined ? null : e.data,
    });
  }
}

const cases = [
  ["query", "errors:plainError"],
  ["query", "errors:stringData"],
  ["mutation", "errors:objectData"],
  ["action", "errors:viaQuery"],
];
const http = new ConvexHttpClient(url);
const ws = new ConvexClient(url);
for (const [kind, fn] of cases) {
  const [mod, name] = fn.split(":");
  await observe("http", kind, fn, () => http[kind](api[mod][name], {}));
  await observe("ws", kind, fn, () => ws[kind](api[mod][name], {}));
}
const raw = await fetch(`${url}/api/query`, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ path: "errors:stringData", args: {}, format: "json" }),
});
out({ raw: raw.status, body: await raw.json() });
// Write conflicts and overload: the HTTP client gets the error; the WebSocket client's
// mutation is retried (the socket closes, it reconnects and resends) until it succeeds.
for (const fn of ["conflictUntilMarked", "busyUntilMarked"]) {
  try {
    await http.mutation(api.errors[fn], {});
    out({ retryable: fn, http: "no error" });
  } catch (e) {
    out({ retryable: fn, http: e.message });
  }
}
const before = ws.connectionState().connectionCount;
const pending = ws.mutation(api.errors.conflictUntilMarked, {});
while (ws.connectionState().connectionCount < before + 1) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await http.mutation(api.errors.mark, {});
out({ retried: await pending, reconnected: ws.connectionState().connectionCount > before });
await ws.close();
out({ ok: true });
process.exit(0);
