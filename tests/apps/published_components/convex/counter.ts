import { ShardedCounter } from "@convex-dev/sharded-counter";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { mutation, query } from "./_generated/server";

const counter = new ShardedCounter(components.shardedCounter, { shards: { hits: 4 } });

export const add = mutation({
  args: { name: v.string(), by: v.number() },
  handler: async (ctx, { name, by }) => {
    await counter.add(ctx, name, by);
  },
});

export const dec = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    await counter.for(name).dec(ctx);
  },
});

export const get = query({
  args: { name: v.string() },
  handler: async (ctx, { name }) => counter.count(ctx, name),
});
