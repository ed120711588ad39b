import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { mutation, query } from "./_generated/server";

export const add = mutation({
  args: { title: v.string(), body: v.string(), channel: v.string() },
  handler: async (ctx, doc) => await ctx.db.insert("docs", doc),
});

export const edit = mutation({
  args: { id: v.id("docs"), body: v.string() },
  handler: async (ctx, { id, body }) => {
    await ctx.db.patch(id, { body });
  },
});

/** Titles of the best matches, most relevant first, optionally within one channel. */
export const find = query({
  args: { text: v.string(), channel: v.optional(v.string()), limit: v.optional(v.number()) },
  handler: async (ctx, { text, channel, limit }) => {
    const results = await ctx.db
      .query("docs")
      .withSearchIndex("search_body", (q) =>
        channel === undefined ? q.search("body", text) : q.search("body", text).eq("channel", channel),
      )
      .take(limit ?? 10);
    return results.map((d) => d.title);
  },
});

export const findPage = query({
  args: { text: v.string(), paginationOpts: paginationOptsValidator },
  handler: async (ctx, { text, paginationOpts }) => {
    const page = await ctx.db
      .query("docs")
      .withSearchIndex("search_body", (q) => q.search("body", text))
      .paginate(paginationOpts);
    return { ...page, page: page.page.map((d) => d.title) };
  },
});

/** Not allowed: the index does not exist. */
export const findMissingIndex = query({
  args: {},
  handler: async (ctx) =>
    await ctx.db
      .query("docs")
      .withSearchIndex("nope" as any, (q: any) => q.search("body", "x"))
      .collect(),
});
