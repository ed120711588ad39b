// Official npm `convex` clients (unmodified) against a Strata deployment.
// Usage: node scenarios.mjs <scenario> <deploymentUrl>; prints JSON lines, exits 0 on success.
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError } from "convex/values";
import readline from "node:readline";

const api = anyApi;
const [scenario, url] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (msg) => {
  out({ error: String(msg) });
  process.exit(1);
};
const timer = setTimeout(() => fail(`scenario ${scenario} timed out`), 60_000);

/** Resolve when `predicate(value)` holds for a value of the subscription. */
function waitFor(client, ref, args, predicate) {
  return new Promise((resolve, reject) => {
    const unsub = client.onUpdate(
      ref,
      args,
      (value) => {
        if (predicate(value)) {
          unsub();
          resolve(value);
        }
      },
      reject,
    );
  });
}

async function subscribe() {
  const watcher = new ConvexClient(url);
  const writer = new ConvexClient(url);
  const seen = [];
  const done = new Promise((resolve) => {
    watcher.onUpdate(api.messages.list, { channel: "live" }, (rows) => {
      seen.push(rows.map((r) => r.body));
      if (rows.length === 2) resolve();
    });
  });
  await waitFor(watcher, api.messages.list, { channel: "live" }, (rows) => rows.length === 0);
  await writer.mutation(api.messages.send, { channel: "live", body: "one" });
  await writer.mutation(api.messages.send, { channel: "live", body: "two" });
  await done;
  out({ seen });
  let error = null;
  try {
    await writer.mutation(api.messages.send, { channel: "live", body: "" });
  } catch (e) {
    error = { convexError: e instanceof ConvexError, data: e.data };
  }
  out({ error });
  const echoed = await writer.action(api.messages.echo, { value: { n: 5n, s: "x" } });
  out({ echo: { n: `${typeof echoed.n}:${echoed.n}`, s: echoed.s } });
  out({ query: await writer.query(api.messages.count, {}) });
  const http = new ConvexHttpClient(url);
  out({ httpQuery: (await http.query(api.messages.list, { channel: "live" })).map((r) => r.body) });
  out({ httpMutation: typeof (await http.mutation(api.messages.send, { channel: "h", body: "b" })) });
  await watcher.close();
  await writer.close();
}

async function optimistic() {
  const client = new ConvexClient(url);
  const events = [];
  await waitFor(client, api.messages.list, { channel: "opt" }, (rows) => rows.length === 0);
  client.onUpdate(api.messages.list, { channel: "opt" }, (rows) => {
    events.push(rows.map((r) => `${r.body}:${r._id.startsWith("optimistic") ? "local" : "server"}`));
  });
  const pending = client.mutation(
    api.messages.send,
    { channel: "opt", body: "fast" },
    {
      optimisticUpdate: (store, args) => {
        const rows = store.getQuery(api.messages.list, { channel: args.channel });
        if (rows !== undefined) {
          store.setQuery(api.messages.list, { channel: args.channel }, [
            ...rows,
            { _id: "optimistic-1", _creationTime: Date.now(), ...args },
          ]);
        }
      },
    },
  );
  const localFirst = events.length > 0 ? events[events.length - 1] : null;
  const id = await pending;
  const final = client.client.localQueryResult("messages:list", { channel: "opt" });
  out({ localFirst, events, id, final: final.map((r) => r._id === id) });
  await client.close();
}

async function paginate() {
  const client = new ConvexClient(url);
  const writer = new ConvexHttpClient(url);
  for (const body of ["a", "b", "c"]) {
    await writer.mutation(api.messages.send, { channel: "pg", body });
  }
  const results = [];
  let resolveGrown;
  const grown = new Promise((r) => (resolveGrown = r));
  let result;
  client.onPaginatedUpdate_experimental(
    api.messages.page,
    { channel: "pg" },
    { initialNumItems: 2 },
    (r) => {
      result = r;
      results.push({ status: r.status, bodies: r.results.map((d) => d.body) });
      if (r.results.length >= 4) resolveGrown();
    },
  );
  while (!result || result.status === "LoadingFirstPage") await new Promise((r) => setTimeout(r, 20));
  result.loadMore(2);
  while (result.results.length < 3) await new Promise((r) => setTimeout(r, 20));
  await writer.mutation(api.messages.send, { channel: "pg", body: "d" });
  await grown;
  out({ results });
  await client.close();
}

async function reconnect() {
  // Waits for commands on stdin so the test can restart the server in between.
  const client = new ConvexClient(url);
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const states = [];
  client.onUpdate(api.messages.list, { channel: "rc" }, (rows) => states.push(rows.length));
  await waitFor(client, api.messages.list, { channel: "rc" }, (rows) => rows.length === 0);
  out({ ready: true });
  await lines.next(); // "server stopped"
  const pending = client.mutation(api.messages.send, { channel: "rc", body: "while-down" });
  out({ sent: true });
  const id = await pending;
  const rows = await waitFor(client, api.messages.list, { channel: "rc" }, (r) => r.length >= 1);
  out({ id, bodies: rows.map((r) => r.body), states });
  await client.close();
}

async function auth() {
  // argv: <good token> <token signed by an unknown key>
  const [good, bad] = process.argv.slice(4);
  const client = new ConvexClient(url);
  const changes = [];
  client.setAuth(async () => good, (ok) => changes.push(ok));
  const me = await waitFor(client, api.messages.whoami, {}, (v) => v !== null);
  out({ subject: me.subject, tokenIdentifier: me.tokenIdentifier, changes });
  const rejected = new ConvexClient(url);
  const badChanges = [];
  await new Promise((resolve) => {
    rejected.setAuth(async () => bad, (ok) => {
      badChanges.push(ok);
      resolve();
    });
  });
  const anonymous = await rejected.query(api.messages.whoami, {});
  out({ badChanges, anonymous });
  await client.close();
  await rejected.close();
}

const scenarios = { subscribe, optimistic, paginate, reconnect, auth };
if (!(scenario in scenarios)) fail(`unknown scenario ${scenario}`);
try {
  await scenarios[scenario]();
  clearTimeout(timer);
  out({ ok: true });
  process.exit(0);
} catch (e) {
  fail(e?.stack ?? e);
}
