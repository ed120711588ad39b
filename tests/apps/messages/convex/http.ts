import { httpRouter } from "convex/server";
import { api } from "./_generated/api";
import { httpAction } from "./_generated/server";

const http = httpRouter();

http.route({
  path: "/echo",
  method: "POST",
  handler: httpAction(async (_ctx, request) => {
    const body = await request.text();
    return new Response(JSON.stringify({ got: body, method: request.method, q: new URL(request.url).searchParams.get("q") }), {
      status: 201,
      headers: { "content-type": "application/json", "x-strata": "1" },
    });
  }),
});

http.route({
  pathPrefix: "/channel/",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const channel = new URL(request.url).pathname.split("/").pop() ?? "";
    const rows = await ctx.runQuery(api.messages.list, { channel });
    return Response.json(rows.map((r: { body: string }) => r.body));
  }),
});

export default http;
