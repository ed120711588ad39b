import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation, mutation, query } from "./_generated/server";

export const list = query({
  args: {},
  handler: async (ctx) => await ctx.db.query("tasks").collect(),
});

export const add = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => await ctx.db.insert("tasks", { text }),
});

export const remind = internalMutation({
  args: { note: v.string() },
  handler: async (ctx, { note }) => {
    await ctx.db.insert("reminders", { note });
  },
});

/** Schedules a reminder an hour out, so it stays pending while the console looks at it. */
export const remindLater = mutation({
  args: { note: v.string() },
  handler: async (ctx, { note }) =>
    await ctx.scheduler.runAfter(3_600_000, internal.tasks.remind, { note }),
});

export const job = query({
  args: { id: v.id("_scheduled_functions") },
  handler: async (ctx, { id }) => await ctx.db.system.get(id),
});
