// Two deployments served by one process: each official client sees only its own data.
// Usage: node two_apps.mjs <urlA> <urlB>; prints JSON lines, the last one {"ok": true}.
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi as api } from "convex/server";

const [urlA, urlB] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const timer = setTimeout(() => {
  out({ error: "timed out" });
  process.exit(1);
}, 60_000);

function until(client, predicate) {
  return new Promise((resolve, reject) => {
    const unsub = client.onUpdate(api.messages.list, { channel: "c" }, (rows) => {
      const bodies = rows.map((r) => r.body);
      if (predicate(bodies)) {
        unsub();
        resolve(bodies);
      }
    }, reject);
  });
}

const a = new ConvexClient(urlA);
const b = new ConvexClient(urlB);
await until(a, (rows) => rows.length === 0);
await until(b, (rows) => rows.length === 0);
const seenA = until(a, (rows) => rows.length === 2);
const seenB = until(b, (rows) => rows.length === 1);
await a.mutation(api.messages.send, { channel: "c", body: "a1" });
await b.mutation(api.messages.send, { channel: "c", body: "b1" });
await a.mutation(api.messages.send, { channel: "c", body: "a2" });
out({ liveA: await seenA, liveB: await seenB });
out({
  httpA: (await new ConvexHttpClient(urlA).query(api.messages.list, { channel: "c" })).map(
    (r) => r.body,
  ),
  httpB: (await new ConvexHttpClient(urlB).query(api.messages.list, { channel: "c" })).map(
    (r) => r.body,
  ),
});
await a.close();
await b.close();
clearTimeout(timer);
out({ ok: true });
