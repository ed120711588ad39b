import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { api } from "./_generated/api";

async function row(ctx: any, name: string) {
  return await ctx.db
    .query("counts")
    .withIndex("by_name", (q: any) => q.eq("name", name))
    .unique();
}

export const add = mutation({
  args: { name: v.string(), by: v.number() },
  handler: async (ctx, { name, by }) => {
    const existing = await row(ctx, name);
    if (existing === null) {
      return await ctx.db.insert("counts", { name, value: by });
    }
    await ctx.db.patch(existing._id, { value: existing.value + by });
    return existing._id;
  },
});

export const addThenFail = mutation({
  args: { name: v.string(), by: v.number() },
  handler: async (ctx, { name, by }) => {
    await ctx.db.insert("counts", { name: name + "-failed", value: by });
    const existing = await row(ctx, name);
    if (existing !== null) {
      await ctx.db.patch(existing._id, { value: existing.value + by });
    }
    throw new Error("counter refused the change");
  },
});

export const get = query({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    const existing = await row(ctx, name);
    return existing === null ? 0 : existing.value;
  },
});

export const names = query({
  args: {},
  handler: async (ctx) => {
    const all = await ctx.db.query("counts").collect();
    return all.map((c: any) => c.name).sort();
  },
});

export const peek = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    return await ctx.db.get(id as any);
  },
});

export const byId = query({
  args: { id: v.id("counts") },
  handler: async (ctx, { id }) => {
    const doc = await ctx.db.get(id);
    return doc === null ? null : doc.value;
  },
});

// Read when the module loads: still this instance's env, not the deployment's.
const atLoad = { greeting: process.env.GREETING ?? null, secret: process.env.APP_SECRET ?? null };

export const envKeys = query({
  args: {},
  handler: async () => ({
    keys: Object.keys(process.env).sort(),
    greeting: process.env.GREETING ?? null,
    atLoad,
  }),
});

export const scheduleAdd = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    return await ctx.scheduler.runAfter(0, api.counts.add, { name, by: 1 });
  },
});

export const jobState = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    const job: any = await ctx.db.system.get(id as any);
    return job === null ? null : job.state.kind;
  },
});
