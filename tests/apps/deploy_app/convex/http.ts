import { httpRouter } from "convex/server";
import { api } from "./_generated/api";
import { httpAction } from "./_generated/server";

const http = httpRouter();

http.route({
  path: "/hello",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const who = new URL(request.url).searchParams.get("who") ?? "world";
    return new Response(`${process.env.GREETING ?? "hello"}, ${who}`, {
      status: 200,
      headers: { "content-type": "text/plain", "x-strata": "yes" },
    });
  }),
});

http.route({
  path: "/tasks",
  method: "POST",
  handler: httpAction(async (ctx, request) => {
    const { owner, text } = await request.json();
    const id = await ctx.runMutation(api.tasks.add, { owner, text });
    const tasks = await ctx.runQuery(api.tasks.list, { owner });
    return Response.json({ id, count: tasks.length }, { status: 201 });
  }),
});

http.route({
  path: "/whoami",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    let identity: unknown = null;
    try {
      identity = await ctx.auth.getUserIdentity();
    } catch (e) {
      identity = { error: String(e) };
    }
    return Response.json({ identity, header: request.headers.get("Authorization") });
  }),
});

export default http;
