import { actionGeneric, queryGeneric } from "convex/server";

export const byName = queryGeneric({
  args: {},
  handler: async (ctx) => await ctx.db.query("staged").withIndex("by_name" as never).collect(),
});

export const search = queryGeneric({
  args: {},
  handler: async (ctx) =>
    await ctx.db
      .query("staged")
      .withSearchIndex("search_name" as never, (q: any) => q.search("name", "x"))
      .collect(),
});

export const vector = actionGeneric({
  args: {},
  handler: async (ctx) =>
    await ctx.vectorSearch("staged", "by_embedding" as never, { vector: [1, 2, 3] }),
});

export const missing = queryGeneric({
  args: {},
  handler: async (ctx) => await ctx.db.query("staged").withIndex("nope" as never).collect(),
});
