import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  marks: defineTable({}),
  vectors: defineTable({ embedding: v.optional(v.array(v.float64())) }).vectorIndex(
    "by_embedding",
    { vectorField: "embedding", dimensions: 3 },
  ),
  // Staged indexes are declared but not built: querying them is an error until enabled.
  staged: defineTable({ name: v.string(), embedding: v.array(v.float64()) })
    .index("by_name", { fields: ["name"], staged: true })
    .searchIndex("search_name", { searchField: "name", staged: true })
    .vectorIndex("by_embedding", { vectorField: "embedding", dimensions: 3, staged: true }),
});
