import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
crons.daily("daily digest", { hourUTC: 4, minuteUTC: 0 }, internal.tasks.remind, { note: "digest" });
export default crons;
