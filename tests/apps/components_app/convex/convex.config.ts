import { defineApp } from "convex/server";
import { v } from "convex/values";
import counter from "../counter/convex.config";
import ledger from "../ledger/convex.config";

const app = defineApp({ env: { APP_GREETING: v.optional(v.string()) } });
app.use(counter, { env: { GREETING: "hi" }, httpPrefix: "/counter/" });
app.use(counter, { name: "counter2", env: { GREETING: app.env.APP_GREETING } });
app.use(ledger);
export default app;
