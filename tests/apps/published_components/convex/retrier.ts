import { ActionRetrier, onCompleteValidator } from "@convex-dev/action-retrier";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { internalAction, internalMutation, mutation, query } from "./_generated/server";

const retrier = new ActionRetrier(components.actionRetrier, {
  initialBackoffMs: 50,
  base: 2,
  maxFailures: 4,
});

export const bump = internalMutation({
  args: { key: v.string() },
  handler: async (ctx, { key }) => {
    const row = await ctx.db
      .query("attempts")
      .withIndex("by_key", (q) => q.eq("key", key))
      .unique();
    if (row === null) {
      await ctx.db.insert("attempts", { key, count: 1 });
      return 1;
    }
    await ctx.db.patch(row._id, { count: row.count + 1 });
    return row.count + 1;
  },
});

/** Fails until it has been attempted `succeedOn` times. */
export const flaky = internalAction({
  args: { key: v.string(), succeedOn: v.number() },
  handler: async (ctx, { key, succeedOn }): Promise<string> => {
    const attempt: number = await ctx.runMutation(internal.retrier.bump, { key });
    if (attempt < succeedOn) throw new Error(`transient failure ${attempt}`);
    return `succeeded on attempt ${attempt}`;
  },
});

export const completed = internalMutation({
  args: onCompleteValidator,
  handler: async (ctx, args) => {
    await ctx.db.insert("events", { kind: "retrier", detail: args });
  },
});

export const start = mutation({
  args: { key: v.string(), succeedOn: v.number() },
  handler: async (ctx, args) =>
    retrier.run(ctx, internal.retrier.flaky, args, { onComplete: internal.retrier.completed }),
});

export const status = query({
  args: { runId: v.string(), key: v.string() },
  handler: async (ctx, { runId, key }) => {
    const status = await retrier.status(ctx, runId as any);
    const row = await ctx.db
      .query("attempts")
      .withIndex("by_key", (q) => q.eq("key", key))
      .unique();
    return { status, attempts: row?.count ?? 0 };
  },
});
