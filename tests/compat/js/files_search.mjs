// File storage and text search through the official npm `convex` clients (unmodified)
// against a Strata deployment running tests/apps/files_search_app.
// Usage: node files_search.mjs <scenario> <deploymentUrl>; prints JSON lines, exits 0 on success.
import { createHash } from "node:crypto";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";

const api = anyApi;
const [scenario, url] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const fail = (msg) => {
  out({ error: String(msg) });
  process.exit(1);
};
const timer = setTimeout(() => fail(`scenario ${scenario} timed out`), 60_000);

/** generateUploadUrl -> POST the bytes -> save the id -> getUrl -> GET (whole and ranged). */
async function upload() {
  const http = new ConvexHttpClient(url);
  const body = Buffer.from("0123456789abcdefghij");
  const digest = createHash("sha256").update(body).digest("base64");
  const uploadUrl = await http.mutation(api.files.generateUploadUrl, {});
  const posted = await fetch(uploadUrl, {
    method: "POST",
    headers: { "Content-Type": "text/plain", Digest: `sha-256=${digest}` },
    body,
  });
  const { storageId } = await posted.json();
  out({ uploadStatus: posted.status, storageId });
  await http.mutation(api.files.save, { storageId, name: "digits.txt" });
  const described = await http.query(api.files.describe, { storageId });
  out({ described });
  const whole = await fetch(described.url);
  out({ get: { status: whole.status, type: whole.headers.get("content-type"), text: await whole.text() } });
  const ranged = await fetch(described.url, { headers: { Range: "bytes=2-5" } });
  out({
    range: {
      status: ranged.status,
      contentRange: ranged.headers.get("content-range"),
      text: await ranged.text(),
    },
  });
  const wrongDigest = createHash("sha256").update("other").digest("base64");
  const secondUrl = await http.mutation(api.files.generateUploadUrl, {});
  const rejected = await fetch(secondUrl, {
    method: "POST",
    headers: { "Content-Type": "text/plain", Digest: `sha-256=${wrongDigest}` },
    body,
  });
  out({ badDigestStatus: rejected.status });
  const forged = await fetch(uploadUrl.replace(/token=.*/, "token=forged"), { method: "POST", body });
  out({ forgedStatus: forged.status });
  out({ listed: await http.query(api.files.listFiles, {}) });
}

/** A withSearchIndex subscription follows inserts and edits made by another client. */
async function reactiveSearch() {
  const watcher = new ConvexClient(url);
  const writer = new ConvexHttpClient(url);
  const seen = [];
  let waiting = null;
  watcher.onUpdate(api.search.find, { text: "rock", channel: "space" }, (titles) => {
    seen.push(titles);
    if (waiting !== null && waiting.predicate(titles)) {
      const { resolve } = waiting;
      waiting = null;
      resolve(titles);
    }
  });
  const until = (predicate) =>
    new Promise((resolve) => {
      if (seen.length > 0 && predicate(seen[seen.length - 1])) resolve(seen[seen.length - 1]);
      else waiting = { predicate, resolve };
    });
  await until((t) => t.length === 0);
  const first = await writer.mutation(api.search.add, {
    title: "launch",
    body: "rocket launch today",
    channel: "space",
  });
  await until((t) => t.length === 1);
  await writer.mutation(api.search.add, { title: "music", body: "rock concert", channel: "music" });
  await writer.mutation(api.search.add, {
    title: "geology",
    body: "rock rock rock samples",
    channel: "space",
  });
  await until((t) => t.length === 2);
  await writer.mutation(api.search.edit, { id: first, body: "postponed" });
  const last = await until((t) => t.length === 1);
  out({ seen, last });
  await watcher.close();
}

const scenarios = { upload, reactiveSearch };
if (!(scenario in scenarios)) fail(`unknown scenario ${scenario}`);
try {
  await scenarios[scenario]();
  clearTimeout(timer);
  out({ ok: true });
  process.exit(0);
} catch (e) {
  fail(e?.stack ?? e);
}
