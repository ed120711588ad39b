import { vOnCompleteArgs, Workpool } from "@convex-dev/workpool";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { internalAction, internalMutation, mutation, query } from "./_generated/server";

const pool = new Workpool(components.workpool, { maxParallelism: 2 });

export const double = internalAction({
  args: { n: v.number() },
  handler: async (_ctx, { n }) => n * 2,
});

export const done = internalMutation({
  args: vOnCompleteArgs(v.object({ tag: v.string() })),
  handler: async (ctx, { workId, context, result }) => {
    await ctx.db.insert("events", { kind: "workpool", detail: { workId, tag: context.tag, result } });
  },
});

export const enqueue = mutation({
  args: { n: v.number(), tag: v.string() },
  handler: async (ctx, { n, tag }) =>
    pool.enqueueAction(ctx, internal.pool.double, { n }, {
      onComplete: internal.pool.done,
      context: { tag },
      retry: false,
    }),
});

export const status = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => pool.status(ctx, id as any),
});

/** Enqueued to start a minute from now, then canceled before it runs. */
export const enqueueLaterAndCancel = mutation({
  args: { tag: v.string() },
  handler: async (ctx, { tag }) => {
    const id = await pool.enqueueAction(ctx, internal.pool.double, { n: 5 }, {
      onComplete: internal.pool.done,
      context: { tag },
      runAfter: 60_000,
    });
    await pool.cancel(ctx, id);
    return id;
  },
});
