"use node";
import { actionGeneric, anyApi } from "convex/server";
import { ConvexError } from "convex/values";

export const throws = actionGeneric({
  args: {},
  handler: async () => {
    throw new ConvexError("from node");
  },
});

export const viaQuery = actionGeneric({
  args: {},
  handler: async (ctx) => {
    await ctx.runQuery(anyApi.errors.stringData, {});
  },
});
