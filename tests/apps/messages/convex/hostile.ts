import { v } from "convex/values";
import { action, mutation, query } from "./_generated/server";

export const spin = query({
  args: {},
  handler: async () => {
    for (;;) {
      // burn CPU forever
    }
  },
});

export const spinAfterAwait = query({
  args: {},
  handler: async (ctx) => {
    await ctx.db.query("messages").first();
    for (;;) {
      // microtask-phase infinite loop
    }
  },
});

export const memoryBomb = query({
  args: {},
  handler: async () => {
    const hoard: string[][] = [];
    for (;;) hoard.push(new Array(100000).fill("xxxxxxxx"));
  },
});

export const hugeReturn = query({
  args: { mb: v.number() },
  handler: async (_ctx, { mb }) => "x".repeat(mb * 1024 * 1024),
});

export const neverResolves = query({
  args: {},
  handler: async () => new Promise(() => {}),
});

export const writeInQuery = query({
  args: {},
  handler: async (ctx) => {
    // queries get a read-only db; call the raw syscall the way a hostile bundle could
    const g = globalThis as unknown as { Convex: { asyncSyscall: (op: string, a: string) => Promise<string> } };
    return g.Convex.asyncSyscall(
      "1.0/insert",
      JSON.stringify({ table: "messages", value: { channel: "x", author: "x", body: "x" } }),
    );
  },
});

export const schedule = mutation({
  args: {},
  handler: async (ctx) => {
    await ctx.scheduler.runAfter(0, "messages:list" as never, {} as never);
  },
});

export const manyLogs = query({
  args: {},
  handler: async () => {
    for (let i = 0; i < 1000; i++) console.log("line", i, "y".repeat(5000));
    return "done";
  },
});

export const bigAction = action({
  args: {},
  handler: async () => {
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1000000).fill(1));
  },
});

export const recurse = query({
  args: {},
  handler: async () => {
    const f = (n: number): number => f(n + 1) + 1;
    return f(0);
  },
});

export const tamper = query({
  args: {},
  handler: async () => {
    const g = globalThis as Record<string, any>;
    const errors: string[] = [];
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (e) {
        errors.push((e as Error).name);
      }
    };
    attempt(() => {
      g.__strata = null;
    });
    attempt(() => {
      g.Convex = null;
    });
    attempt(() => {
      g.Convex.syscall = () => "{}";
    });
    attempt(() => {
      delete g.__strata;
    });
    return {
      strata: typeof g.__strata,
      convex: typeof g.Convex,
      syscallReplaced: String(g.Convex?.syscall).includes('"{}"'),
    };
  },
});

// Returns at once and writes from a promise chain that outlives the call: the write must fail
// (the transaction is gone), never land in the next call's transaction.
export const danglingWrite = mutation({
  args: {},
  handler: async (ctx) => {
    let p: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < 20; i++) p = p.then(() => undefined);
    void p.then(() =>
      ctx.db.insert("messages", { channel: "dangling", author: "ghost", body: "late" }),
    );
    return "returned";
  },
});
