import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  events: defineTable({ room: v.string(), seq: v.number(), body: v.string() }).index("by_room", [
    "room",
  ]),
});
