import { ActionCache } from "@convex-dev/action-cache";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { action, internalAction, mutation } from "./_generated/server";

const cache = new ActionCache(components.actionCache, {
  action: internal.cache.square,
  name: "square",
});

/** The expensive action: counts its own runs (in `attempts`) so a cache hit shows. */
export const square = internalAction({
  args: { n: v.number() },
  handler: async (ctx, { n }): Promise<{ value: number; run: number }> => {
    const run: number = await ctx.runMutation(internal.retrier.bump, { key: `square:${n}` });
    return { value: n * n, run };
  },
});

export const fetch = action({
  args: { n: v.number() },
  handler: async (ctx, { n }): Promise<{ value: number; run: number }> => cache.fetch(ctx, { n }),
});

export const forget = mutation({
  args: { n: v.number() },
  handler: async (ctx, { n }) => {
    await cache.remove(ctx, { n });
  },
});
