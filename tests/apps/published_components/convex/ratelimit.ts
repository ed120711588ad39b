import { HOUR, RateLimiter } from "@convex-dev/rate-limiter";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { mutation, query } from "./_generated/server";

const limiter = new RateLimiter(components.rateLimiter, {
  send: { kind: "fixed window", rate: 2, period: HOUR },
  burst: { kind: "token bucket", rate: 3, period: HOUR, capacity: 3 },
});

export const send = mutation({
  args: { key: v.string(), name: v.optional(v.string()) },
  handler: async (ctx, { key, name }) => {
    const { ok, retryAfter } = await limiter.limit(ctx, (name ?? "send") as "send", { key });
    return { ok, retryAfter: retryAfter ?? null };
  },
});

export const check = query({
  args: { key: v.string() },
  handler: async (ctx, { key }) => {
    const { ok } = await limiter.check(ctx, "send", { key });
    return ok;
  },
});

export const reset = mutation({
  args: { key: v.string() },
  handler: async (ctx, { key }) => {
    await limiter.reset(ctx, "send", { key });
  },
});
