import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  scores: defineTable({ player: v.string(), score: v.number() }),
  items: defineTable({ n: v.number(), doubled: v.optional(v.number()) }),
  attempts: defineTable({ key: v.string(), count: v.number() }).index("by_key", ["key"]),
  events: defineTable({ kind: v.string(), detail: v.any() }).index("by_kind", ["kind"]),
});
