import { TableAggregate } from "@convex-dev/aggregate";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { mutation, query } from "./_generated/server";

const board = new TableAggregate<{ Key: number; DataModel: any; TableName: "scores" }>(
  components.aggregate,
  { sortKey: (doc) => doc.score, sumValue: (doc) => doc.score },
);

export const add = mutation({
  args: { player: v.string(), score: v.number() },
  handler: async (ctx, args) => {
    const id = await ctx.db.insert("scores", args);
    await board.insert(ctx, (await ctx.db.get(id))!);
    return id;
  },
});

export const remove = mutation({
  args: { player: v.string() },
  handler: async (ctx, { player }) => {
    for (const doc of await ctx.db.query("scores").collect()) {
      if (doc.player === player) {
        await ctx.db.delete(doc._id);
        await board.delete(ctx, doc);
      }
    }
  },
});

export const stats = query({
  args: {},
  handler: async (ctx) => {
    const count = await board.count(ctx);
    const sum = await board.sum(ctx);
    const top = count > 0 ? await board.at(ctx, -1) : null;
    const rankOf50 = await board.indexOf(ctx, 50, { order: "desc" });
    const page = await board.paginate(ctx, { pageSize: 2 });
    return {
      count,
      sum,
      top: top?.key ?? null,
      rankOf50,
      firstPage: page.page.map((item) => item.key),
    };
  },
});
