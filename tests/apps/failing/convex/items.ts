import { mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";

// Throws until the "items" table has a row: a failure that depends on what it read.
export const firstOrThrow = queryGeneric({
  args: {},
  handler: async (ctx) => {
    const doc = await ctx.db.query("items").first();
    if (doc === null) throw new Error("no items yet");
    return doc.name;
  },
});

export const add = mutationGeneric({
  args: { table: v.string(), name: v.string() },
  handler: async (ctx, { table, name }) => ctx.db.insert(table as "items", { name }),
});
