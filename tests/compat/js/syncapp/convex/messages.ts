import { paginationOptsValidator } from "convex/server";
import { ConvexError, v } from "convex/values";
import { action, mutation, query } from "./_generated/server";

export const list = query({
  args: { channel: v.string() },
  handler: async (ctx, { channel }) =>
    ctx.db
      .query("messages")
      .withIndex("by_channel", (q) => q.eq("channel", channel))
      .collect(),
});

export const count = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("messages").collect()).length,
});

export const page = query({
  args: { channel: v.string(), paginationOpts: paginationOptsValidator },
  handler: async (ctx, { channel, paginationOpts }) =>
    ctx.db
      .query("messages")
      .withIndex("by_channel", (q) => q.eq("channel", channel))
      .paginate(paginationOpts),
});

export const send = mutation({
  args: { channel: v.string(), body: v.string() },
  handler: async (ctx, args) => {
    if (args.body.length === 0) {
      throw new ConvexError({ code: "EMPTY", message: "body must not be empty" });
    }
    console.log("sending", args.body);
    return await ctx.db.insert("messages", args);
  },
});

export const whoami = query({
  args: {},
  handler: async (ctx) => await ctx.auth.getUserIdentity(),
});

export const echo = action({
  args: { value: v.any() },
  handler: async (_ctx, { value }) => value,
});

export const measure = mutation({
  args: { blob: v.string() },
  handler: async (_ctx, { blob }) => blob.length,
});

export const fetchUrl = action({
  args: { url: v.string() },
  handler: async (_ctx, { url }) => {
    const res = await fetch(url);
    return { status: res.status, url: res.url, redirected: res.redirected, body: await res.text() };
  },
});

export const uploadUrl = mutation({
  args: {},
  handler: async (ctx) => await ctx.storage.generateUploadUrl(),
});
