import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();
crons.interval("post heartbeat", { minutes: 5 }, internal.messages.internalSend, { body: "beat" });
crons.daily("nightly", { hourUTC: 3, minuteUTC: 30 }, internal.messages.internalSend, {
  body: "night",
});

export default crons;
