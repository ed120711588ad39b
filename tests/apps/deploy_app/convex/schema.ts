import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  tasks: defineTable({
    owner: v.string(),
    text: v.string(),
    done: v.boolean(),
    priority: v.optional(v.int64()),
  })
    .index("by_owner", ["owner"])
    .index("by_owner_done", ["owner", "done"]),
  notes: defineTable({ body: v.string() }),
});
