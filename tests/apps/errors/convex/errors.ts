// Functions that fail in the ways Convex clients must be able to tell apart.
import { actionGeneric, anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { ConvexError } from "convex/values";

const api = anyApi;

export const plainError = queryGeneric({
  args: {},
  handler: async () => {
    throw new Error("plain failure");
  },
});

export const stringData = queryGeneric({
  args: {},
  handler: async () => {
    throw new ConvexError("just a string");
  },
});

// Keys not in alphabetical order: the message keeps the order they were written in.
export const objectData = mutationGeneric({
  args: {},
  handler: async () => {
    throw new ConvexError({ zeta: 1, alpha: "two", code: 3n });
  },
});

export const viaQuery = actionGeneric({
  args: {},
  handler: async (ctx) => {
    await ctx.runQuery(api.errors.stringData, {});
  },
});

export const viaMutation = actionGeneric({
  args: {},
  handler: async (ctx) => {
    await ctx.runMutation(api.errors.objectData, {});
  },
});

export const viaPlainQuery = actionGeneric({
  args: {},
  handler: async (ctx) => {
    await ctx.runQuery(api.errors.plainError, {});
  },
});

export const viaNode = actionGeneric({
  args: {},
  handler: async (ctx) => {
    await ctx.runAction(api.nodeErrors.throws, {});
  },
});

// Catches a nested ConvexError and reports what the action's own code sees.
export const catchNested = actionGeneric({
  args: {},
  handler: async (ctx) => {
    try {
      await ctx.runMutation(api.errors.objectData, {});
      return null;
    } catch (e: any) {
      return { isConvexError: e instanceof ConvexError, keys: Object.keys(e.data) };
    }
  },
});
