import { v } from "convex/values";
import { mutation, query } from "./_generated/server";

// The newest event of a room: one small result that changes on every write.
export const latest = query({
  args: { room: v.string() },
  handler: async (ctx, { room }) =>
    ctx.db
      .query("events")
      .withIndex("by_room", (q) => q.eq("room", room))
      .order("desc")
      .first(),
});

export const create = mutation({
  args: { room: v.string(), seq: v.number(), body: v.string() },
  handler: async (ctx, args) => await ctx.db.insert("events", args),
});

// One event in each of `rooms`, in one transaction (bench/sockets.py: a write touching many
// subscribers' queries at once).
export const createMany = mutation({
  args: { rooms: v.array(v.string()), seq: v.number(), body: v.string() },
  handler: async (ctx, { rooms, seq, body }) => {
    for (const room of rooms) {
      await ctx.db.insert("events", { room, seq, body });
    }
    return rooms.length;
  },
});
