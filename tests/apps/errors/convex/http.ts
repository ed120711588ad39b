import { httpActionGeneric, httpRouter } from "convex/server";
import { ConvexError } from "convex/values";

const http = httpRouter();

http.route({
  path: "/fails",
  method: "GET",
  handler: httpActionGeneric(async () => {
    throw new Error("route failed");
  }),
});

http.route({
  path: "/fails_with_data",
  method: "GET",
  handler: httpActionGeneric(async () => {
    throw new ConvexError({ reason: "teapot", status: 418 });
  }),
});

export default http;
