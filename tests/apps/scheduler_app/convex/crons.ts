import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
crons.interval("tick", { seconds: 1 }, internal.jobs.addNote, { body: "cron-tick" });
crons.daily("nightly", { hourUTC: 3, minuteUTC: 15 }, internal.jobs.addNote, { body: "cron-nightly" });
export default crons;
