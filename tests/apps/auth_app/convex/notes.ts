import { getAuthUserId } from "@convex-dev/auth/server";
import { v } from "convex/values";
import { mutation, query } from "./_generated/server";

// Who the caller is, as the app sees it: the Convex Auth user and the verified token identity.
export const me = query({
  args: {},
  handler: async (ctx) => {
    const userId = await getAuthUserId(ctx);
    if (userId === null) return null;
    const user = await ctx.db.get(userId);
    const identity = await ctx.auth.getUserIdentity();
    return { userId, email: user?.email ?? null, issuer: identity?.issuer ?? null, subject: identity?.subject ?? null };
  },
});

export const add = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    const userId = await getAuthUserId(ctx);
    if (userId === null) throw new Error("Not signed in");
    return await ctx.db.insert("notes", { userId, text });
  },
});

export const mine = query({
  args: {},
  handler: async (ctx) => {
    const userId = await getAuthUserId(ctx);
    if (userId === null) return [];
    const notes = await ctx.db.query("notes").withIndex("by_user", (q) => q.eq("userId", userId)).collect();
    return notes.map((n) => n.text);
  },
});
