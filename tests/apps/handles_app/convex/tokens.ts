/* ctx.auth.signJwt: deployment-issued tokens (mutations only). */
import { getServiceToken } from "convex/server";
import { v } from "convex/values";
import { action, mutation } from "./_generated/server";

export const sign = mutation({
  args: { claims: v.optional(v.any()), expiresInSeconds: v.number() },
  handler: async (ctx, { claims, expiresInSeconds }) =>
    await ctx.auth.signJwt({ claims, expiresInSeconds }),
});

/** ctx.auth in actions has no signJwt; calling the syscall directly must be refused. */
export const fromAction = action({
  args: {},
  handler: async () =>
    await (globalThis as any).Convex.asyncSyscall(
      "1.0/signJwt",
      JSON.stringify({ expiresInSeconds: 60 }),
    ),
});

/** Convex-managed services do not exist on a self-hosted deployment: a clear error. */
export const serviceToken = action({
  args: {},
  handler: async () => await getServiceToken("ai-gateway"),
});
