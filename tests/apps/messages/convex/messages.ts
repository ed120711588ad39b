import { ConvexError, v } from "convex/values";
import { api, internal } from "./_generated/api";
import { action, internalMutation, internalQuery, mutation, query } from "./_generated/server";
import { channelLabel } from "./lib/format";

export const list = query({
  args: { channel: v.string(), limit: v.optional(v.number()) },
  handler: async (ctx, { channel, limit }) => {
    const q = ctx.db
      .query("messages")
      .withIndex("by_channel", (q) => q.eq("channel", channel))
      .order("desc");
    const rows = limit === undefined ? await q.collect() : await q.take(limit);
    console.log("list", channelLabel(channel), rows.length);
    return rows;
  },
});

export const page = query({
  args: { channel: v.string(), paginationOpts: v.any() },
  handler: async (ctx, { channel, paginationOpts }) =>
    ctx.db
      .query("messages")
      .withIndex("by_channel", (q) => q.eq("channel", channel))
      .paginate(paginationOpts),
});

export const byAuthor = query({
  args: { author: v.string(), minLikes: v.number() },
  handler: async (ctx, { author, minLikes }) =>
    ctx.db
      .query("messages")
      .withIndex("by_author_channel", (q) => q.eq("author", author))
      .filter((q) => q.gte(q.field("likes"), minLikes))
      .collect(),
});

export const count = query({
  args: {},
  returns: v.number(),
  handler: async (ctx) => (await ctx.db.query("messages").collect()).length,
});

export const get = query({
  args: { id: v.id("messages") },
  handler: async (ctx, { id }) => ctx.db.get(id),
});

export const first = query({
  args: {},
  handler: async (ctx) => ctx.db.query("messages").order("asc").first(),
});

export const send = mutation({
  args: { channel: v.string(), author: v.string(), body: v.string() },
  returns: v.id("messages"),
  handler: async (ctx, args) => {
    if (args.body.length === 0) {
      throw new ConvexError({ code: "EMPTY", message: "body must not be empty" });
    }
    const id = await ctx.db.insert("messages", { ...args, likes: 0 });
    const doc = await ctx.db.get(id);
    console.info("sent", doc?.body);
    return id;
  },
});

export const like = mutation({
  args: { id: v.id("messages") },
  handler: async (ctx, { id }) => {
    const doc = await ctx.db.get(id);
    if (doc === null) throw new Error("no such message");
    await ctx.db.patch(id, { likes: (doc.likes ?? 0) + 1 });
    return (doc.likes ?? 0) + 1;
  },
});

export const edit = mutation({
  args: { id: v.id("messages"), body: v.string() },
  handler: async (ctx, { id, body }) => {
    const doc = await ctx.db.get(id);
    if (doc === null) throw new Error("no such message");
    await ctx.db.replace(id, { channel: doc.channel, author: doc.author, body });
  },
});

export const remove = mutation({
  args: { id: v.id("messages") },
  handler: async (ctx, { id }) => {
    await ctx.db.delete(id);
  },
});

export const sendThenFail = mutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    await ctx.db.insert("messages", { channel: "doomed", author: "x", body });
    throw new Error("changed my mind");
  },
});

export const wrongReturn = query({
  args: {},
  returns: v.string(),
  handler: async () => 42 as unknown as string,
});

export const bump = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    const row = await ctx.db
      .query("counters")
      .withIndex("by_name", (q) => q.eq("name", name))
      .unique();
    if (row === null) {
      await ctx.db.insert("counters", { name, value: 1n });
      return 1n;
    }
    await ctx.db.patch(row._id, { value: row.value + 1n });
    return row.value + 1n;
  },
});

export const secretCount = internalQuery({
  args: {},
  handler: async (ctx) => (await ctx.db.query("messages").collect()).length,
});

export const internalSend = internalMutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) =>
    ctx.db.insert("messages", { channel: "internal", author: "system", body }),
});

export const viaAction = action({
  args: { channel: v.string() },
  handler: async (ctx, { channel }) => {
    const id = await ctx.runMutation(internal.messages.internalSend, { body: "from action" });
    const [rows, n] = await Promise.all([
      ctx.runQuery(api.messages.list, { channel }),
      ctx.runQuery(internal.messages.secretCount, {}),
    ]);
    return { id, bodies: rows.map((r: { body: string }) => r.body), n };
  },
});

export const insertRaw = mutation({
  args: { doc: v.any() },
  handler: async (ctx, { doc }) => ctx.db.insert("messages", doc),
});

export const countViaRunQuery = query({
  args: {},
  handler: async (ctx): Promise<number> => {
    const n: number = await ctx.runQuery(internal.messages.secretCount, {});
    return n * 10;
  },
});

export const sendAndCount = mutation({
  args: { body: v.string() },
  handler: async (ctx, { body }): Promise<number> => {
    await ctx.db.insert("messages", { channel: "general", author: "m", body });
    // a nested query inside a mutation sees the mutation's own write
    return await ctx.runQuery(internal.messages.secretCount, {});
  },
});

export const sendViaAction = action({
  args: { body: v.string(), rethrow: v.boolean() },
  handler: async (ctx, { body, rethrow }) => {
    try {
      return await ctx.runMutation(api.messages.send, { channel: "a", author: "act", body });
    } catch (e) {
      if (rethrow || !(e instanceof ConvexError)) throw e;
      return { caught: e.data };
    }
  },
});

export const nestedMutations = mutation({
  args: {},
  handler: async (ctx) => {
    await ctx.runMutation(internal.messages.internalSend, { body: "kept" });
    let caught = "";
    try {
      await ctx.runMutation(api.messages.sendThenFail, { body: "undone" });
    } catch (e) {
      caught = (e as Error).message;
    }
    const bodies = (await ctx.db.query("messages").collect()).map((d) => d.body);
    return { caught: caught.includes("changed my mind"), bodies };
  },
});

export const recursiveAction = action({
  args: { n: v.number() },
  handler: async (ctx, { n }): Promise<number> => {
    if (n <= 0) return await ctx.runQuery(api.messages.count, {});
    const [a, b] = await Promise.all([
      ctx.runAction(api.messages.recursiveAction, { n: n - 1 }),
      ctx.runQuery(api.messages.count, {}),
    ]);
    return a + b + 1;
  },
});
