import { defineApp } from "convex/server";
import counter from "../counter/convex.config";
import ledger from "../ledger/convex.config";

const app = defineApp();
app.use(counter);
app.use(counter, { name: "counter2" });
app.use(ledger);
export default app;
