import { v } from "convex/values";
import { action, query } from "./_generated/server";

export const store = action({
  args: { text: v.string() },
  handler: async (ctx, { text }): Promise<string> =>
    await ctx.storage.store(new Blob([text], { type: "text/plain" })),
});

export const list = query({
  args: {},
  handler: async (ctx) => (await ctx.db.system.query("_storage").collect()).map((f) => f._id),
});

export const url = query({
  args: { id: v.id("_storage") },
  handler: async (ctx, { id }) => await ctx.storage.getUrl(id),
});
