// The official npm `convex` client sends sync frames of a given size.
// Usage: node limits.mjs <deploymentUrl> <bytes>...; one JSON line per size: the mutation's
// result or its error message; a call that never resolves makes the script time out.
import { ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";

const [url, ...sizes] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const timer = setTimeout(() => {
  out({ error: "timed out" });
  process.exit(1);
}, 60_000);

const client = new ConvexClient(url);
for (const size of sizes.map(Number)) {
  try {
    const length = await client.mutation(anyApi.messages.measure, { blob: "x".repeat(size) });
    out({ size, length });
  } catch (e) {
    out({ size, error: String(e?.message ?? e) });
  }
}
await client.close();
clearTimeout(timer);
out({ ok: true });
process.exit(0);
