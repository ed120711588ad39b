import { httpRouter } from "convex/server";
import { api } from "./_generated/api";
import { httpAction } from "./_generated/server";

// Served under the prefix the parent mounts this instance at (`httpPrefix`); paths here
// are relative to it.
const http = httpRouter();

http.route({
  path: "/count",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const name = new URL(request.url).searchParams.get("name") ?? "";
    const value = await ctx.runQuery(api.counts.get, { name });
    return Response.json({ value, url: request.url, greeting: process.env.GREETING ?? null });
  }),
});

http.route({
  pathPrefix: "/bump/",
  method: "POST",
  handler: httpAction(async (ctx, request) => {
    const name = new URL(request.url).pathname.split("/").pop() ?? "";
    await ctx.runMutation(api.counts.add, { name, by: 1 });
    return new Response(null, { status: 204 });
  }),
});

export default http;
