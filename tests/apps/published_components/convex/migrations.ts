import { Migrations } from "@convex-dev/migrations";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { mutation, query } from "./_generated/server";

export const migrations = new Migrations<DataModel>(components.migrations);

/** Fill `doubled` on every item, two documents per batch (so the run pages through). */
export const fillDoubled = migrations.define({
  table: "items",
  batchSize: 2,
  migrateOne: (_ctx, doc) => (doc.doubled === undefined ? { doubled: doc.n * 2 } : undefined),
});

export const run = migrations.runner();

export const seed = mutation({
  args: { count: v.number() },
  handler: async (ctx, { count }) => {
    for (let n = 1; n <= count; n++) await ctx.db.insert("items", { n });
  },
});

export const start = mutation({
  args: {},
  handler: async (ctx) => {
    await migrations.runOne(ctx, internal.migrations.fillDoubled);
  },
});

export const status = query({
  args: {},
  handler: async (ctx) => {
    const [status] = await migrations.getStatus(ctx, {
      migrations: [internal.migrations.fillDoubled],
    });
    const items = await ctx.db.query("items").collect();
    return {
      state: status?.state ?? null,
      isDone: status?.isDone ?? false,
      processed: status?.processed ?? 0,
      error: status?.error ?? null,
      items: items.map((i) => [i.n, i.doubled ?? null]),
    };
  },
});
