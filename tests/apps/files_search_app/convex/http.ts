import { httpRouter } from "convex/server";
import { httpAction } from "./_generated/server";

const http = httpRouter();

/** The Convex docs' pattern: store the request body, answer with its id. */
http.route({
  path: "/upload",
  method: "POST",
  handler: httpAction(async (ctx, request) => {
    const storageId = await ctx.storage.store(await request.blob());
    return Response.json({ storageId });
  }),
});

/** Serve a stored file from an HTTP action: `?id=<storageId>`. */
http.route({
  path: "/file",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const id = new URL(request.url).searchParams.get("id") ?? "";
    const blob = await ctx.storage.get(id as any);
    if (blob === null) return new Response("missing", { status: 404 });
    return new Response(blob, { headers: { "x-size": String(blob.size) } });
  }),
});

export default http;
