import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";

const http = httpRouter();

http.route({
  path: "/hello",
  method: "GET",
  handler: httpAction(async () => new Response("app hello")),
});

// An exact route of the app wins over the component mounted at /counter/.
http.route({
  path: "/counter/special",
  method: "GET",
  handler: httpAction(async () => new Response("app special")),
});

export default http;
