import { v } from "convex/values";
import { internal } from "./_generated/api";
import {
  action,
  internalAction,
  internalMutation,
  mutation,
  query,
} from "./_generated/server";

export const addNote = internalMutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    await ctx.db.insert("notes", { body });
  },
});

export const bump = internalMutation({
  args: { key: v.string() },
  handler: async (ctx, { key }) => {
    const row = await ctx.db
      .query("counters")
      .filter((q) => q.eq(q.field("key"), key))
      .first();
    if (row === null) {
      await ctx.db.insert("counters", { key, n: 1 });
    } else {
      await ctx.db.patch(row._id, { n: row.n + 1 });
    }
  },
});

export const failing = internalMutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    await ctx.db.insert("notes", { body });
    throw new Error("scheduled boom " + body);
  },
});

export const noteFromAction = internalAction({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    await ctx.runMutation(internal.jobs.addNote, { body: "action:" + body });
  },
});

export const schedule = mutation({
  args: { body: v.string(), delayMs: v.number(), fn: v.optional(v.string()) },
  handler: async (ctx, { body, delayMs, fn }) => {
    await ctx.db.insert("notes", { body: "scheduler:" + body });
    const target =
      fn === "action"
        ? internal.jobs.noteFromAction
        : fn === "failing"
          ? internal.jobs.failing
          : internal.jobs.addNote;
    return await ctx.scheduler.runAfter(delayMs, target, { body });
  },
});

export const scheduleAt = mutation({
  args: { body: v.string(), atMs: v.number() },
  handler: async (ctx, { body, atMs }) =>
    await ctx.scheduler.runAt(atMs, internal.jobs.addNote, { body }),
});

export const scheduleBumps = mutation({
  args: { key: v.string(), n: v.number() },
  handler: async (ctx, { key, n }) => {
    for (let i = 0; i < n; i++) {
      await ctx.scheduler.runAfter(0, internal.jobs.bump, { key });
    }
  },
});

export const scheduleThenFail = mutation({
  args: { body: v.string() },
  handler: async (ctx, { body }) => {
    await ctx.scheduler.runAfter(0, internal.jobs.addNote, { body });
    throw new Error("rolled back");
  },
});

export const scheduleMissing = mutation({
  args: {},
  handler: async (ctx) => await ctx.scheduler.runAfter(0, "jobs:nope" as any, {}),
});

export const cancel = mutation({
  args: { id: v.id("_scheduled_functions") },
  handler: async (ctx, { id }) => {
    await ctx.scheduler.cancel(id);
  },
});

// Cancels every unfinished job, its own included; its writes still commit.
export const cancelOwnJob = internalMutation({
  args: {},
  handler: async (ctx) => {
    for (const job of await ctx.db.system.query("_scheduled_functions").collect()) {
      if (job.state.kind === "pending" || job.state.kind === "inProgress") {
        await ctx.scheduler.cancel(job._id);
      }
    }
    await ctx.db.insert("notes", { body: "canceled myself" });
  },
});

export const scheduleSelfCanceling = mutation({
  args: {},
  handler: async (ctx) => await ctx.scheduler.runAfter(0, internal.jobs.cancelOwnJob, {}),
});

export const scheduleFromAction = action({
  args: { body: v.string() },
  handler: async (ctx, { body }) =>
    await ctx.scheduler.runAfter(0, internal.jobs.addNote, { body: "from-action:" + body }),
});

export const notes = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("notes").collect()).map((n) => n.body),
});

export const counter = query({
  args: { key: v.string() },
  handler: async (ctx, { key }) => {
    const row = await ctx.db
      .query("counters")
      .filter((q) => q.eq(q.field("key"), key))
      .first();
    return row === null ? 0 : row.n;
  },
});

export const job = query({
  args: { id: v.id("_scheduled_functions") },
  handler: async (ctx, { id }) => await ctx.db.system.get(id),
});

export const jobs = query({
  args: {},
  handler: async (ctx) => await ctx.db.system.query("_scheduled_functions").collect(),
});

export const cronLogs = query({
  args: {},
  handler: async (ctx) =>
    (await ctx.db.query("notes").collect())
      .filter((n) => n.body.startsWith("cron"))
      .map((n) => n.body),
});

export const cronJobs = query({
  args: {},
  handler: async (ctx) =>
    (await (ctx.db.system as any).query("_cron_jobs").collect()).map((c: any) => c.name),
});

export const cronHistory = query({
  args: {},
  handler: async (ctx) =>
    (await (ctx.db.system as any).query("_cron_job_logs").collect()).map((l: any) => ({
      name: l.name,
      status: l.status.type,
    })),
});
