import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
crons.interval("daily note", { hours: 24 }, internal.tasks.addNote, { body: "daily" });
export default crons;
