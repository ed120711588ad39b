import { defineComponent } from "convex/server";
import { v } from "convex/values";

// GREETING: an env var the parent binds (`app.use(counter, { env: { GREETING } })`).
export default defineComponent("counter", { env: { GREETING: v.optional(v.string()) } });
