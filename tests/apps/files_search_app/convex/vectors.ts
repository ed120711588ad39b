import { v } from "convex/values";
import { action, internalQuery, mutation } from "./_generated/server";
import { internal } from "./_generated/api";

export const add = mutation({
  args: { text: v.string(), kind: v.string(), vector: v.array(v.float64()) },
  handler: async (ctx, doc) => await ctx.db.insert("embeddings", doc),
});

export const texts = internalQuery({
  args: { ids: v.array(v.id("embeddings")) },
  handler: async (ctx, { ids }) => {
    const docs = await Promise.all(ids.map((id) => ctx.db.get(id)));
    return docs.map((d) => d?.text ?? null);
  },
});

/** The nearest documents to `vector` (cosine), optionally of one kind, with their scores. */
export const similar = action({
  args: { vector: v.array(v.float64()), kind: v.optional(v.string()), limit: v.optional(v.number()) },
  handler: async (ctx, { vector, kind, limit }) => {
    const hits = await ctx.vectorSearch("embeddings", "by_vector", {
      vector,
      limit,
      filter: kind === undefined ? undefined : (q) => q.eq("kind", kind),
    });
    const texts: (string | null)[] = await ctx.runQuery(internal.vectors.texts, {
      ids: hits.map((h) => h._id),
    });
    return hits.map((h, i) => ({ text: texts[i], score: h._score }));
  },
});

/** Either kind, through an `or` filter. */
export const similarAnyOf = action({
  args: { vector: v.array(v.float64()), kinds: v.array(v.string()) },
  handler: async (ctx, { vector, kinds }) => {
    const hits = await ctx.vectorSearch("embeddings", "by_vector", {
      vector,
      limit: 16,
      filter: (q) => q.or(...kinds.map((k) => q.eq("kind", k))),
    });
    return hits.length;
  },
});
