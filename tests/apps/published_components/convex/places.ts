import { GeospatialIndex } from "@convex-dev/geospatial";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { mutation, query } from "./_generated/server";

const index = new GeospatialIndex<string, { kind: string }>(components.geospatial);

export const add = mutation({
  args: { key: v.string(), latitude: v.number(), longitude: v.number(), kind: v.string() },
  handler: async (ctx, { key, latitude, longitude, kind }) => {
    await index.insert(ctx, key, { latitude, longitude }, { kind });
  },
});

export const remove = mutation({
  args: { key: v.string() },
  handler: async (ctx, { key }) => index.remove(ctx, key),
});

/** Keys inside a rectangle (optionally of one kind), sorted. */
export const within = query({
  args: {
    north: v.number(),
    south: v.number(),
    east: v.number(),
    west: v.number(),
    kind: v.optional(v.string()),
  },
  handler: async (ctx, { north, south, east, west, kind }) => {
    const { results } = await index.query(ctx, {
      shape: { type: "rectangle", rectangle: { north, south, east, west } },
      filter: kind === undefined ? undefined : (q) => q.eq("kind", kind),
      limit: 100,
    });
    return results.map((r) => r.key).sort();
  },
});

export const nearest = query({
  args: { latitude: v.number(), longitude: v.number(), limit: v.number() },
  handler: async (ctx, { latitude, longitude, limit }) =>
    (await index.nearest(ctx, { point: { latitude, longitude }, limit })).map((r) => r.key),
});
