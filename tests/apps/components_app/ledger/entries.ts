import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { components } from "./_generated/api";

export const record = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    await ctx.db.insert("entries", { text });
    await ctx.runMutation(components.counter.counts.add, { name: "entries", by: 1 });
    return null;
  },
});

export const summary = query({
  args: {},
  handler: async (ctx) => {
    const entries = await ctx.db.query("entries").collect();
    const counted = await ctx.runQuery(components.counter.counts.get, { name: "entries" });
    return { texts: entries.map((e: any) => e.text), counted };
  },
});
