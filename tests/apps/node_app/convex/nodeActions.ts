"use node";
/* "use node" actions: Node built-ins, ctx.run*, process.env, and misbehaving code. */
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { v } from "convex/values";
import { api, internal } from "./_generated/api";
import { action, internalAction } from "./_generated/server";

export const hashAndStore = action({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    const digest = createHash("sha256").update(text).digest("hex");
    console.log("hashing", text.length);
    await ctx.runMutation(internal.store.save, { text, digest });
    const count = await ctx.runQuery(api.store.count, {});
    const user = await ctx.auth.getUserIdentity();
    return { digest, count, greeting: process.env.GREETING ?? null, user: user?.subject ?? null };
  },
});

export const double = internalAction({
  args: { x: v.number() },
  handler: async (_ctx, { x }) => x * 2,
});

export const spin = action({
  args: {},
  handler: async () => {
    for (;;) {
      // never returns: the per-call timeout must stop it
    }
  },
});

export const crash = action({
  args: {},
  handler: async () => {
    process.exit(7);
  },
});

export const readFile = action({
  args: { path: v.string() },
  handler: async (_ctx, { path }) => {
    try {
      return fs.readFileSync(path, "utf8").slice(0, 20);
    } catch (e: any) {
      return `denied: ${e.code}`;
    }
  },
});

/** Tries fetch(), a raw TCP connection and a unix socket; reports what happened. */
export const probe = action({
  args: { url: v.string(), host: v.string(), port: v.number(), socketPath: v.string() },
  handler: async (_ctx, { url, host, port, socketPath }) => {
    const outcome = (p: Promise<unknown>) =>
      p.then(
        (x) => `ok ${x}`,
        (e: any) => `error ${e?.code ?? e?.cause?.code ?? ""} ${e?.cause?.message ?? e?.message}`,
      );
    const tcp = (opts: net.NetConnectOpts) =>
      new Promise((resolve, reject) => {
        try {
          const s = net.connect(opts, () => {
            s.destroy();
            resolve("connected");
          });
          s.on("error", reject);
        } catch (e) {
          reject(e);
        }
      });
    const httpGet = (target: string) =>
      new Promise((resolve, reject) => {
        try {
          http.get(target, (res) => {
            res.resume();
            resolve(res.statusCode);
          }).on("error", reject);
        } catch (e) {
          reject(e);
        }
      });
    return {
      fetch: await outcome(fetch(url).then((r) => r.status)),
      http: await outcome(httpGet(url)),
      tcp: await outcome(tcp({ host, port })),
      unix: await outcome(tcp({ path: socketPath })),
    };
  },
});

/** ctx.storage from Node: store a Blob, read it back, look at its metadata. */
export const roundTrip = action({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    const id = await ctx.storage.store(new Blob([text], { type: "text/plain" }));
    const blob = await ctx.storage.get(id);
    const meta = await ctx.storage.getMetadata(id);
    return { text: blob === null ? null : await blob.text(), size: meta?.size ?? null };
  },
});

export const fail = action({
  args: {},
  handler: async () => {
    throw new Error("node says no");
  },
});

/** An exception thrown in a timer callback, where the action cannot catch it. */
export const throwInCallback = action({
  args: {},
  handler: async () =>
    await new Promise(() => {
      setTimeout(() => {
        throw new Error("lost in a callback");
      }, 1);
    }),
});

/** The stack user code sees for an error it creates. */
export const ownStack = action({
  args: {},
  handler: async () => outer(),
});
function outer(): string {
  return inner();
}
const inner = () => new Error("where am I").stack ?? "";

export const timers = action({
  args: {},
  handler: async () => {
    console.time();
    console.timeLog(undefined, "step", 1);
    console.timeEnd();
    console.time("t");
    console.time("t");
    console.timeEnd("t");
    console.timeEnd("t");
  },
});

export const stuck = action({
  args: {},
  handler: async () =>
    // A timer runs, then nothing is left that could ever settle the promise.
    new Promise(() => setTimeout(() => {}, 100)),
});

export const slowButAlive = action({
  args: {},
  handler: async (ctx) => {
    // Thread-pool work and a server round trip keep the event loop busy: not stuck.
    const { pbkdf2 } = await import("node:crypto");
    const key = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2("pw", "salt", 300_000, 32, "sha256", (e, k) => (e ? reject(e) : resolve(k))),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const count = await ctx.runQuery(api.store.count, {});
    return { key: key.toString("hex").slice(0, 8), count };
  },
});

export const forge = action({
  args: {},
  handler: async () => {
    // Write what the host would write on the channel: results for the next call ids.
    for (let id = 1; id <= 200; id++) {
      fs.writeSync(1, JSON.stringify({ t: "done", id, ok: true, result: '"forged"', logLines: [] }) + "\n");
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    return "real";
  },
});
