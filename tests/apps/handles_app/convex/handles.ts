/* Function handles: created, stored in documents, and used by ctx.run* and ctx.scheduler. */
import { createFunctionHandle, type FunctionHandle } from "convex/server";
import { v } from "convex/values";
import { api, internal } from "./_generated/api";
import {
  action,
  internalAction,
  internalMutation,
  internalQuery,
  mutation,
  query,
} from "./_generated/server";

export const record = internalMutation({
  args: { tag: v.string() },
  handler: async (ctx, { tag }) => await ctx.db.insert("events", { tag }),
});

export const tags = internalQuery({
  args: {},
  handler: async (ctx) => (await ctx.db.query("events").collect()).map((e) => e.tag).sort(),
});

export const double = internalAction({
  args: { x: v.number() },
  handler: async (_ctx, { x }) => x * 2,
});

/** Makes handles for the three internal functions and stores them in a document. */
export const saveHandles = mutation({
  args: {},
  handler: async (ctx) => {
    const doc = {
      record: await createFunctionHandle(internal.handles.record),
      tags: await createFunctionHandle(internal.handles.tags),
      double: await createFunctionHandle(internal.handles.double),
    };
    await ctx.db.insert("handles", doc);
    return doc;
  },
});

export const stored = query({
  args: {},
  handler: async (ctx) => {
    const doc = await ctx.db.query("handles").first();
    return doc === null ? null : { record: doc.record, tags: doc.tags, double: doc.double };
  },
});

/** Creates a handle from a plain path string (how an app passes a name it was given). */
export const handleFor = query({
  args: { name: v.string() },
  handler: async (_ctx, { name }) => await createFunctionHandle(name as any),
});

/** Uses the stored handles from an action: runMutation, runQuery, runAction, scheduler. */
export const useStored = action({
  args: {},
  handler: async (ctx) => {
    const h = await ctx.runQuery(api.handles.stored, {});
    if (h === null) throw new Error("no handles saved");
    await ctx.runMutation(h.record as FunctionHandle<"mutation">, { tag: "from-action" });
    const doubled = await ctx.runAction(h.double as FunctionHandle<"action">, { x: 21 });
    const jobId = await ctx.scheduler.runAfter(0, h.record as FunctionHandle<"mutation">, {
      tag: "scheduled-by-action",
    });
    const tags = await ctx.runQuery(h.tags as FunctionHandle<"query">, {});
    return { doubled, tags, jobId };
  },
});

/** Uses a handle passed in by the caller from a mutation: runMutation and scheduler. */
export const useInMutation = mutation({
  args: { handle: v.string(), tag: v.string() },
  handler: async (ctx, { handle, tag }) => {
    const id = await ctx.runMutation(handle as FunctionHandle<"mutation">, { tag });
    const jobId = await ctx.scheduler.runAfter(0, handle as FunctionHandle<"mutation">, {
      tag: `${tag}-later`,
    });
    return { id, jobId };
  },
});

/** Calls whatever handle it is given as a query (for error tests). */
export const queryHandle = action({
  args: { handle: v.string() },
  handler: async (ctx, { handle }) =>
    await ctx.runQuery(handle as FunctionHandle<"query">, {}),
});

/** Schedules whatever handle it is given (for error tests). */
export const scheduleHandle = mutation({
  args: { handle: v.string() },
  handler: async (ctx, { handle }) =>
    await ctx.scheduler.runAfter(0, handle as FunctionHandle<"mutation">, {}),
});
