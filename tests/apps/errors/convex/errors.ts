// Functions that fail in the ways Convex clients must be able to tell apart.
import { actionGeneric, anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { ConvexError, v } from "convex/values";

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

// Never settles: its last timer fires and nothing is left that could resolve it.
export const deadlock = actionGeneric({
  args: {},
  handler: async () => {
    return new Promise(() => setTimeout(() => {}, 50));
  },
});

export const spin = actionGeneric({
  args: {},
  handler: async () => {
    for (;;) {
      // runs until the action's time limit stops it
    }
  },
});

// Test-only syscalls with which Convex clients' retries are exercised: the mutation fails
// with a write conflict / overload until a row exists in "marks".
declare const Convex: { syscall: (op: string, jsonArgs: string) => string };

export const conflictUntilMarked = mutationGeneric({
  args: {},
  handler: async (ctx) => {
    if ((await ctx.db.query("marks").first()) !== null) return "done";
    Convex.syscall("throwOcc", "{}");
  },
});

export const busyUntilMarked = mutationGeneric({
  args: {},
  handler: async (ctx) => {
    if ((await ctx.db.query("marks").first()) !== null) return "done";
    Convex.syscall("throwOverloaded", "{}");
  },
});

// User code cannot swallow the failure.
export const conflictCaught = mutationGeneric({
  args: {},
  handler: async () => {
    try {
      Convex.syscall("throwOcc", "{}");
    } catch {
      return "swallowed";
    }
  },
});

export const mark = mutationGeneric({
  args: {},
  handler: async (ctx) => {
    await ctx.db.insert("marks", {});
  },
});

export const addVector = mutationGeneric({
  args: { embedding: v.optional(v.array(v.float64())) },
  handler: async (ctx, { embedding }) => await ctx.db.insert("vectors", { embedding }),
});
