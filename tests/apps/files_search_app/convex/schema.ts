import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  files: defineTable({ storageId: v.id("_storage"), name: v.string() }),
  docs: defineTable({ title: v.string(), body: v.string(), channel: v.string() })
    .index("by_channel", ["channel"])
    .searchIndex("search_body", { searchField: "body", filterFields: ["channel"] }),
  embeddings: defineTable({
    text: v.string(),
    kind: v.string(),
    vector: v.array(v.float64()),
  }).vectorIndex("by_vector", { vectorField: "vector", dimensions: 3, filterFields: ["kind"] }),
});
