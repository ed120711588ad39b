// Published @convex-dev components (tests/apps/published_components) driven through the
// official npm `convex` clients, unmodified, against a Strata deployment.
// Usage: node published_components.mjs <scenario> <deploymentUrl>; prints JSON lines, then
// {"ok": true} when the scenario ran to its end (assertions are the Python test's job).
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";

const api = anyApi;
const [scenario, url] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (msg) => {
  out({ error: String(msg) });
  process.exit(1);
};
const timer = setTimeout(() => fail(`scenario ${scenario} timed out`), 120_000);
const http = new ConvexHttpClient(url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `read` until `done(value)`; returns the last value (the caller asserts on it). */
async function until(read, done, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

/** Live subscriptions (WebSocket client) to component-backed queries while another client
 * mutates: the aggregate's stats and the sharded counter move with every mutation. */
async function live() {
  const client = new ConvexClient(url);
  const stats = [];
  const counts = [];
  const unsubStats = client.onUpdate(api.leaderboard.stats, {}, (v) => stats.push(v));
  const unsubCount = client.onUpdate(api.counter.get, { name: "hits" }, (v) => counts.push(v));
  await until(async () => stats.length > 0 && counts.length > 0, (ready) => ready);
  const initial = { stats: stats.at(-1), count: counts.at(-1) };
  out({ initial });
  const run = Math.random().toString(36).slice(2);
  for (const [player, score] of [["ann", 10], ["bob", 70], ["cy", 40]]) {
    await http.mutation(api.leaderboard.add, { player: player + run, score });
  }
  const base = initial.stats.count;
  const afterInserts = await until(async () => stats.at(-1), (s) => s.count === base + 3);
  out({ afterInserts });
  await http.mutation(api.leaderboard.remove, { player: "bob" + run });
  const afterDelete = await until(async () => stats.at(-1), (s) => s.count === base + 2);
  out({ afterDelete });
  await http.mutation(api.counter.add, { name: "hits", by: 5 });
  await http.mutation(api.counter.dec, { name: "hits" });
  const counted = await until(async () => counts.at(-1), (c) => c === initial.count + 4);
  out({ counted, countUpdates: counts, httpCount: await http.query(api.counter.get, { name: "hits" }) });
  unsubStats();
  unsubCount();
  await client.close();
}

/** Fixed window of 2 per hour per key: the third call is denied with a retry time. */
async function rateLimit() {
  const calls = [];
  for (let i = 0; i < 3; i++) calls.push(await http.mutation(api.ratelimit.send, { key: "ann" }));
  out({ calls });
  out({ otherKey: await http.mutation(api.ratelimit.send, { key: "bob" }) });
  out({ checkAnn: await http.query(api.ratelimit.check, { key: "ann" }) });
  const burst = [];
  for (let i = 0; i < 4; i++) {
    burst.push(await http.mutation(api.ratelimit.send, { key: "ann", name: "burst" }));
  }
  out({ burst });
  await http.mutation(api.ratelimit.reset, { key: "ann" });
  out({ afterReset: await http.mutation(api.ratelimit.send, { key: "ann" }) });
}

/** An action enqueued on the workpool runs and its onComplete gets the result and context. */
async function workpool() {
  const ids = [];
  for (const n of [1, 2, 3]) ids.push(await http.mutation(api.pool.enqueue, { n, tag: `t${n}` }));
  const mine = async () =>
    (await http.query(api.events.list, { kind: "workpool" })).filter((e) => ids.includes(e.workId));
  const events = await until(mine, (rows) => rows.length >= 3);
  out({ ids, events });
  const statuses = [];
  for (const id of ids) statuses.push(await http.query(api.pool.status, { id }));
  out({ statuses });
  const canceled = await http.mutation(api.pool.enqueueLaterAndCancel, { tag: "late" });
  const canceledEvents = await until(
    async () =>
      (await http.query(api.events.list, { kind: "workpool" })).filter((e) => e.workId === canceled),
    (rows) => rows.length >= 1,
  );
  out({ canceledEvents, canceledStatus: await http.query(api.pool.status, { id: canceled }) });
}

/** A migration over `items`, two documents a batch, runs to completion and reports it. */
async function migration() {
  await http.mutation(api.migrations.seed, { count: 5 });
  out({ before: await http.query(api.migrations.status, {}) });
  await http.mutation(api.migrations.start, {});
  out({ after: await until(() => http.query(api.migrations.status, {}), (s) => s.isDone) });
}

/** An action failing twice is retried until it succeeds; one that always fails gives up. */
async function retrier() {
  const run = Math.random().toString(36).slice(2);
  const good = await http.mutation(api.retrier.start, { key: "good" + run, succeedOn: 3 });
  const bad = await http.mutation(api.retrier.start, { key: "bad" + run, succeedOn: 100 });
  const done = (s) => s.status.type === "completed";
  const status = (runId, key) => () => http.query(api.retrier.status, { runId, key: key + run });
  out({ good: await until(status(good, "good"), done) });
  out({ bad: await until(status(bad, "bad"), done) });
  const mine = async () =>
    (await http.query(api.events.list, { kind: "retrier" })).filter((e) => [good, bad].includes(e.runId));
  out({ events: await until(mine, (rows) => rows.length >= 2), goodRun: good, badRun: bad });
}

/** A workflow (workflow -> workpool -> batch worker, nested components) runs its query,
 * action and mutation steps in order and reports its result to onComplete. */
async function workflow() {
  const id = await http.mutation(api.flows.start, { name: "ada" });
  const status = await until(
    () => http.query(api.flows.status, { id }),
    (s) => s.type !== "inProgress",
  );
  out({ id, status });
  out({ steps: await http.query(api.events.list, { kind: "workflowStep" }) });
  const pages = [];
  let cursor = null;
  for (let i = 0; i < 5; i++) {
    const page = await http.query(api.flows.steps, { id, cursor });
    pages.push(page.steps);
    if (page.isDone) break;
    cursor = page.continueCursor;
  }
  out({ journalPages: pages });
  const mine = async () =>
    (await http.query(api.events.list, { kind: "workflow" })).filter((e) => e.workflowId === id);
  out({ completions: await until(mine, (rows) => rows.length >= 1) });
  const nap = await http.mutation(api.flows.startNap, { ms: 1500 });
  out({
    nap: await until(() => http.query(api.flows.status, { id: nap }), (s) => s.type !== "inProgress"),
  });
}

/** A read-through cache over an action: the second fetch is a hit; removal forces a rerun. */
async function actionCache() {
  const n = 1 + Math.floor(Math.random() * 1_000_000);
  const first = await http.action(api.cache.fetch, { n });
  const second = await http.action(api.cache.fetch, { n });
  await http.mutation(api.cache.forget, { n });
  const third = await http.action(api.cache.fetch, { n });
  out({ n, fetches: [first, second, third] });
}

/** A job registered at runtime runs every second until it is deleted. */
async function runtimeCrons() {
  const name = "tick-" + Math.random().toString(36).slice(2);
  const id = await http.mutation(api.schedules.register, { name });
  out({ id, name, listed: await http.query(api.schedules.list, {}) });
  const mine = async () =>
    (await http.query(api.events.list, { kind: "cronTick" })).filter((d) => d === name);
  out({ ticks: (await until(mine, (rows) => rows.length >= 2)).length });
  await http.mutation(api.schedules.unregister, { name });
  out({ afterDelete: await http.query(api.schedules.list, {}) });
}

/** Points in an S2-cell index: rectangle queries (with a filter), nearest, removal. */
async function geospatial() {
  const run = Math.random().toString(36).slice(2);
  const places = [
    ["louvre", 48.8606, 2.3376, "museum"],
    ["orsay", 48.86, 2.3266, "museum"],
    ["eiffel", 48.8584, 2.2945, "tower"],
    ["tate", 51.5076, -0.0994, "museum"],
  ];
  for (const [key, latitude, longitude, kind] of places) {
    await http.mutation(api.places.add, { key: key + run, latitude, longitude, kind });
  }
  const paris = { north: 48.9, south: 48.8, east: 2.4, west: 2.2 };
  const strip = (keys) => keys.filter((k) => k.endsWith(run)).map((k) => k.slice(0, -run.length));
  out({ paris: strip(await http.query(api.places.within, paris)) });
  out({ parisMuseums: strip(await http.query(api.places.within, { ...paris, kind: "museum" })) });
  out({ nearLouvre: strip(await http.query(api.places.nearest, { latitude: 48.861, longitude: 2.336, limit: 2 })) });
  await http.mutation(api.places.remove, { key: "orsay" + run });
  out({ afterRemove: strip(await http.query(api.places.within, paris)) });
}

const scenarios = { live, rateLimit, workpool, migration, retrier, workflow, actionCache, runtimeCrons, geospatial };
try {
  if (!(scenario in scenarios)) fail(`unknown scenario ${scenario}`);
  await scenarios[scenario]();
  out({ ok: true });
} catch (e) {
  fail(e?.stack ?? e);
} finally {
  clearTimeout(timer);
}
process.exit(0);
