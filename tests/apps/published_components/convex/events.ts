import { v } from "convex/values";
import { internalMutation, query } from "./_generated/server";

/** Every callback of the components records what it was told here. */
export const record = internalMutation({
  args: { kind: v.string(), detail: v.any() },
  handler: async (ctx, args) => {
    await ctx.db.insert("events", args);
  },
});

export const list = query({
  args: { kind: v.string() },
  handler: async (ctx, { kind }) => {
    const rows = await ctx.db
      .query("events")
      .withIndex("by_kind", (q) => q.eq("kind", kind))
      .collect();
    return rows.map((r) => r.detail);
  },
});
