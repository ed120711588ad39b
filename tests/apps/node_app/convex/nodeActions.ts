"use node";
/* "use node" actions: Node built-ins, ctx.run*, process.env, and misbehaving code. */
import { createHash } from "node:crypto";
import fs from "node:fs";
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
