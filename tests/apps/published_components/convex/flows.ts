import { vResultValidator, vWorkflowId, WorkflowManager } from "@convex-dev/workflow";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery, mutation, query } from "./_generated/server";

const workflow = new WorkflowManager(components.workflow);

export const greeting = workflow
  .define({ args: { name: v.string() }, returns: v.string() })
  .handler(async (step, { name }): Promise<string> => {
    const fromQuery: string = await step.runQuery(internal.flows.hello, { name });
    const fromAction: string = await step.runAction(internal.flows.shout, { text: fromQuery });
    await step.runMutation(internal.events.record, { kind: "workflowStep", detail: fromAction });
    return fromAction;
  });

/** Sleeps between two steps: the nested workpool schedules the wake-up. */
export const napping = workflow
  .define({ args: { ms: v.number() }, returns: v.number() })
  .handler(async (step, { ms }): Promise<number> => {
    const before: number = await step.runAction(internal.flows.clock, {});
    await step.sleep(ms);
    const after: number = await step.runAction(internal.flows.clock, {});
    return after - before;
  });

export const clock = internalAction({ args: {}, handler: async (): Promise<number> => Date.now() });

export const hello = internalQuery({
  args: { name: v.string() },
  handler: async (_ctx, { name }): Promise<string> => `hello ${name}`,
});

export const shout = internalAction({
  args: { text: v.string() },
  handler: async (_ctx, { text }): Promise<string> => text.toUpperCase() + "!",
});

export const finished = internalMutation({
  args: { workflowId: vWorkflowId, result: vResultValidator, context: v.any() },
  handler: async (ctx, args) => {
    await ctx.db.insert("events", { kind: "workflow", detail: args });
  },
});

export const start = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) =>
    workflow.start(ctx, internal.flows.greeting, { name }, {
      onComplete: internal.flows.finished,
      context: { name },
    }),
});

export const startNap = mutation({
  args: { ms: v.number() },
  handler: async (ctx, { ms }) => workflow.start(ctx, internal.flows.napping, { ms }),
});

export const status = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => workflow.status(ctx, id as any),
});

/** One page of a workflow's journal: the component paginates its own `steps` table. */
export const steps = query({
  args: { id: v.string(), cursor: v.union(v.string(), v.null()) },
  handler: async (ctx, { id, cursor }) => {
    const page = await workflow.listSteps(ctx, id as any, {
      order: "asc",
      paginationOpts: { cursor, numItems: 2 },
    });
    return {
      steps: page.page.map((s) => [s.stepNumber, s.name, s.runResult?.kind ?? null]),
      isDone: page.isDone,
      continueCursor: page.continueCursor,
    };
  },
});
