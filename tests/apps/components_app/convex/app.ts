import { v } from "convex/values";
import { action, mutation, query } from "./_generated/server";
import { components } from "./_generated/api";

export const bump = mutation({
  args: { name: v.string(), by: v.number() },
  handler: async (ctx, args) => {
    return await ctx.runMutation(components.counter.counts.add, args);
  },
});

export const bumpSecond = mutation({
  args: { name: v.string(), by: v.number() },
  handler: async (ctx, args) => {
    return await ctx.runMutation(components.counter2.counts.add, args);
  },
});

export const values = query({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    const first = await ctx.runQuery(components.counter.counts.get, { name });
    const second = await ctx.runQuery(components.counter2.counts.get, { name });
    const own = await ctx.db.query("counts").collect();
    return { first, second, ownCounts: own.length };
  },
});

export const partial = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    await ctx.db.insert("notes", { text: "before" });
    await ctx.runMutation(components.counter.counts.add, { name, by: 1 });
    let caught = "";
    try {
      await ctx.runMutation(components.counter.counts.addThenFail, { name, by: 100 });
    } catch (e: any) {
      caught = e.message;
    }
    await ctx.db.insert("notes", { text: "after" });
    const seen = await ctx.runQuery(components.counter.counts.get, { name });
    return { caught, seen };
  },
});

export const notes = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("notes").collect()).map((n) => n.text),
});

export const names = query({
  args: {},
  handler: async (ctx) => await ctx.runQuery(components.counter.counts.names, {}),
});

export const readComponentId = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    const id: any = await ctx.runMutation(components.counter.counts.add, { name, by: 0 });
    return await ctx.db.get(id);
  },
});

export const passAppId = mutation({
  args: {},
  handler: async (ctx) => {
    const id = await ctx.db.insert("notes", { text: "mine" });
    return await ctx.runQuery(components.counter.counts.peek, { id });
  },
});

export const passSiblingId = mutation({
  args: {},
  handler: async (ctx) => {
    const id: any = await ctx.runMutation(components.counter2.counts.add, { name: "x", by: 1 });
    return await ctx.runQuery(components.counter.counts.byId, { id });
  },
});

export const badArgs = mutation({
  args: {},
  handler: async (ctx) => {
    return await ctx.runMutation(components.counter.counts.add, { name: 5, by: 1 } as any);
  },
});

export const record = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    await ctx.runMutation(components.ledger.entries.record, { text });
  },
});

export const ledger = query({
  args: {},
  handler: async (ctx) => {
    const summary = await ctx.runQuery(components.ledger.entries.summary, {});
    const top = await ctx.runQuery(components.counter.counts.get, { name: "entries" });
    return { ...summary, topLevelCounter: top };
  },
});

export const fromAction = action({
  args: { name: v.string() },
  handler: async (ctx, { name }): Promise<number> => {
    await ctx.runMutation(components.counter.counts.add, { name, by: 7 });
    return await ctx.runQuery(components.counter.counts.get, { name });
  },
});

const appSecretAtLoad = process.env.APP_SECRET ?? null;

export const envSeen = query({
  args: {},
  handler: async (ctx) => ({
    app: process.env.CONVEX_CLOUD_URL !== undefined,
    appSecretAtLoad,
    component: await ctx.runQuery(components.counter.counts.envKeys, {}),
    second: await ctx.runQuery(components.counter2.counts.envKeys, {}),
  }),
});

export const scheduleInComponent = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }): Promise<string> =>
    await ctx.runMutation(components.counter.counts.scheduleAdd, { name }),
});

export const jobStates = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    const job: any = await ctx.db.system.get(id as any);
    const jobs = await ctx.db.system.query("_scheduled_functions").collect();
    return {
      app: job === null ? null : job.state.kind,
      appListed: jobs.some((j) => j._id === id),
      component: await ctx.runQuery(components.counter.counts.jobState, { id }),
    };
  },
});

export const storeInComponent = action({
  args: { text: v.string() },
  handler: async (ctx, { text }): Promise<string> =>
    await ctx.runAction(components.counter.files.store, { text }),
});

export const fileViews = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => ({
    component: await ctx.runQuery(components.counter.files.list, {}),
    sibling: await ctx.runQuery(components.counter2.files.list, {}),
    app: (await ctx.db.system.query("_storage").collect()).length,
    url: await ctx.runQuery(components.counter.files.url, { id: id as any }),
  }),
});

export const appReadsComponentFile = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => await ctx.db.system.get(id as any),
});
