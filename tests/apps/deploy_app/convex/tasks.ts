import { ConvexError, v } from "convex/values";
import { api, internal } from "./_generated/api";
import {
  action,
  internalMutation,
  internalQuery,
  mutation,
  query,
} from "./_generated/server";

export const list = query({
  args: { owner: v.string() },
  handler: async (ctx, { owner }) => {
    const rows = await ctx.db
      .query("tasks")
      .withIndex("by_owner", (q) => q.eq("owner", owner))
      .collect();
    console.log("listing", owner, rows.length);
    return rows.map((r) => ({ text: r.text, done: r.done, priority: r.priority ?? null }));
  },
});

export const open = query({
  args: { owner: v.string() },
  handler: async (ctx, { owner }) =>
    (
      await ctx.db
        .query("tasks")
        .withIndex("by_owner_done", (q) => q.eq("owner", owner).eq("done", false))
        .collect()
    ).map((r) => r.text),
});

export const add = mutation({
  args: { owner: v.string(), text: v.string(), priority: v.optional(v.int64()) },
  returns: v.id("tasks"),
  handler: async (ctx, args) => {
    if (args.text.trim() === "") {
      throw new ConvexError({ code: "EMPTY_TEXT", owner: args.owner });
    }
    return await ctx.db.insert("tasks", { ...args, done: false });
  },
});

export const complete = mutation({
  args: { id: v.id("tasks") },
  handler: async (ctx, { id }) => {
    const task = await ctx.db.get(id);
    if (task === null) throw new Error("no such task");
    await ctx.db.patch(id, { done: true });
    return null;
  },
});

export const countAll = internalQuery({
  args: {},
  handler: async (ctx) => (await ctx.db.query("tasks").collect()).length,
});

export const addNote = internalMutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    await ctx.db.insert("notes", { body });
    return body.length;
  },
});

export const report = action({
  args: { owner: v.string() },
  handler: async (ctx, { owner }) => {
    const tasks = await ctx.runQuery(api.tasks.list, { owner });
    const total = await ctx.runQuery(internal.tasks.countAll, {});
    const written = await ctx.runMutation(internal.tasks.addNote, {
      body: `${owner} has ${tasks.length} of ${total} tasks`,
    });
    return { mine: tasks.length, total, written };
  },
});

export const greeting = query({
  args: {},
  handler: async () => process.env.GREETING ?? null,
});

export const whoami = query({
  args: {},
  handler: async (ctx) => {
    const user = await ctx.auth.getUserIdentity();
    return user === null ? null : { subject: user.subject, issuer: user.issuer, name: user.name ?? null };
  },
});
