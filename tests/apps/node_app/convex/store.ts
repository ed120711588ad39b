/* V8 functions the "use node" actions call. */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { action, internalMutation, query } from "./_generated/server";

export const save = internalMutation({
  args: { text: v.string(), digest: v.string() },
  handler: async (ctx, doc) => await ctx.db.insert("hashes", doc),
});

export const count = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("hashes").collect()).length,
});

export const list = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("hashes").collect()).map((d) => d.digest),
});

/** A V8 action calling an internal Node.js action. */
export const viaNode = action({
  args: { x: v.number() },
  handler: async (ctx, { x }): Promise<number> =>
    await ctx.runAction(internal.nodeActions.double, { x }),
});
