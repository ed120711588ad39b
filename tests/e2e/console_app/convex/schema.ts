import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  tasks: defineTable({ text: v.string(), done: v.optional(v.boolean()) }).index("by_text", ["text"]),
  reminders: defineTable({ note: v.string(), task: v.optional(v.id("tasks")) }),
});
