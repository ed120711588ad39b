import { Crons } from "@convex-dev/crons";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { mutation, query } from "./_generated/server";

const crons = new Crons(components.crons);

/** Registers, at runtime, a job the component runs every second. */
export const register = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) =>
    crons.register(ctx, { kind: "interval", ms: 1000 }, internal.events.record, {
      kind: "cronTick",
      detail: name,
    }, name),
});

export const unregister = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    await crons.delete(ctx, { name });
  },
});

export const list = query({
  args: {},
  handler: async (ctx) =>
    (await crons.list(ctx)).map((c) => ({ name: c.name ?? null, schedule: c.schedule })),
});
