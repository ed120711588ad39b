import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

// Runs in every counter instance, against that instance's own `counts` table.
const crons = cronJobs();
crons.interval("tick", { seconds: 1 }, internal.counts.add, { name: "cron", by: 1 });
export default crons;
