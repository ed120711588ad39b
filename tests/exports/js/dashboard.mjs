// The dashboard's system functions through the official npm ConvexClient (WebSocket), as the
// console's data browser and snapshot pages use them.
// Usage: node dashboard.mjs <deploymentUrl> <adminKey>; prints one JSON object, exits 0.
import { ConvexClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";

const [url, adminKey] = process.argv.slice(2);
const q = (name) => makeFunctionReference(name);
const timer = setTimeout(() => {
  process.stdout.write(JSON.stringify({ error: "timed out", steps }) + "\n");
  process.exit(1);
}, 90_000);
const steps = {};

function waitFor(client, ref, args, predicate) {
  return new Promise((resolve, reject) => {
    const unsub = client.onUpdate(ref, args, (value) => {
      if (predicate(value)) {
        unsub();
        resolve(value);
      }
    }, reject);
  });
}

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return String(e.message ?? e);
  }
}

const admin = new ConvexClient(url, { unsavedChangesWarning: false });
admin.setAdminAuth(adminKey);
const anon = new ConvexClient(url, { unsavedChangesWarning: false });

const mapping = waitFor(admin, q("_system/frontend/getTableMapping"), {}, (m) =>
  Object.values(m).includes("widgets"),
);
const [first] = await admin.mutation(q("_system/frontend/addDocument"), {
  table: "widgets",
  documents: [{ name: "a", n: 5n }],
});
steps.mapping = Object.values(await mapping).filter((n) => !n.startsWith("_"));

await admin.mutation(q("_system/frontend/addDocument"), {
  table: "widgets",
  documents: [{ name: "b" }, { name: "c" }],
});
const pageArgs = { table: "widgets", filters: null, paginationOpts: { numItems: 2, cursor: null } };
const page = await waitFor(admin, q("_system/frontend/paginatedTableDocuments"), pageArgs, (p) =>
  p.page.length === 2,
);
steps.firstPage = { names: page.page.map((d) => d.name), isDone: page.isDone };
const rest = await admin.query(q("_system/frontend/paginatedTableDocuments"), {
  ...pageArgs,
  paginationOpts: { numItems: 2, cursor: page.continueCursor },
});
steps.secondPage = {
  names: rest.page.map((d) => d.name),
  isDone: rest.isDone,
  nType: typeof rest.page[0].n,
};

const patched = waitFor(admin, q("_system/frontend/paginatedTableDocuments"), { ...pageArgs, paginationOpts: { numItems: 10, cursor: null } }, (p) =>
  p.page.some((d) => d.name === "renamed"),
);
await admin.mutation(q("_system/frontend/patchDocumentsFields"), {
  table: "widgets",
  ids: [first],
  fields: { name: "renamed" },
});
steps.patched = (await patched).page.map((d) => d.name);

const deleted = waitFor(admin, q("_system/frontend/paginatedTableDocuments"), { ...pageArgs, paginationOpts: { numItems: 10, cursor: null } }, (p) =>
  p.page.length === 2,
);
await admin.mutation(q("_system/frontend/deleteDocuments"), {
  toDelete: [{ id: first, tableName: "widgets" }],
});
steps.afterDelete = (await deleted).page.map((d) => d.name);

steps.schemas = await admin.query(q("_system/frontend/getSchemas"), {});
steps.latestBefore = await admin.query(q("_system/frontend/latestExport"), {});
const exported = waitFor(admin, q("_system/frontend/latestExport"), {}, (e) => e?.state === "completed");
const r = await fetch(`${url}/api/export/request/zip?includeStorage=false`, {
  method: "POST",
  headers: { Authorization: `Convex ${adminKey}` },
});
steps.exportRequest = r.status;
const done = await exported;
steps.latestAfter = { state: done.state, startTsType: typeof done.start_ts };

steps.errors = {
  anonymous: await errorOf(anon.query(q("_system/frontend/getTableMapping"), {})),
  systemTable: await errorOf(
    admin.mutation(q("_system/frontend/addDocument"), { table: "_storage", documents: [{}] }),
  ),
  badField: await errorOf(
    admin.mutation(q("_system/frontend/addDocument"), { table: "widgets", documents: [{ _x: 1 }] }),
  ),
  wrongTable: await errorOf(
    admin.mutation(q("_system/frontend/deleteDocuments"), { toDelete: [{ id: first, tableName: "other" }] }),
  ),
};
process.stdout.write(JSON.stringify(steps, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) + "\n");
clearTimeout(timer);
await admin.close();
await anon.close();
process.exit(0);
