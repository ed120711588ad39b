import { v } from "convex/values";
import { action, mutation, query } from "./_generated/server";

export const globals = query({
  args: {},
  handler: async () => {
    const enc = new TextEncoder().encode("héllo");
    const url = new URL("https://example.com:8443/a/b?x=1&y=two#frag");
    url.searchParams.append("z", "3");
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", enc));
    return {
      encoded: Array.from(enc),
      decoded: new TextDecoder().decode(enc),
      host: url.host,
      pathname: url.pathname,
      y: url.searchParams.get("y"),
      href: url.href,
      b64: btoa("hi there"),
      unb64: atob("aGkgdGhlcmU="),
      clone: structuredClone({ a: [1, { b: 2 }] }),
      random: Math.random(),
      now: Date.now(),
      dateNow: new Date().getTime(),
      uuidLength: crypto.randomUUID().length,
      randomBytes: bytes.length,
      digestHex: Array.from(digest)
        .map((b) => b.toString(16).padStart(2, "0"))
        .join(""),
      secret: process.env.SECRET ?? null,
    };
  },
});

export const fetchInQuery = query({
  args: {},
  handler: async () => {
    await fetch("https://example.com");
    return "unreachable";
  },
});

export const timerInMutation = mutation({
  args: {},
  handler: async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    return "unreachable";
  },
});

export const sleepy = action({
  args: { ms: v.number() },
  handler: async (_ctx, { ms }) => {
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    return Date.now() - start >= ms;
  },
});

export const fetchUrl = action({
  args: { url: v.string() },
  handler: async (_ctx, { url }) => {
    const res = await fetch(url, { headers: { "x-test": "yes" } });
    return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
  },
});

export const identity = query({
  args: {},
  handler: async (ctx) => ctx.auth.getUserIdentity(),
});

export const hmac = query({
  args: { secret: v.string(), payload: v.string() },
  handler: async (_ctx, { secret, payload }) => {
    const enc = new TextEncoder();
    const key = await crypto.subtle.importKey(
      "raw",
      enc.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(payload)));
    const ok = await crypto.subtle.verify("HMAC", key, sig, enc.encode(payload));
    const bad = await crypto.subtle.verify("HMAC", key, sig, enc.encode(payload + "x"));
    const hex = Array.from(sig)
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    return { hex, ok, bad };
  },
});

export const randomness = action({
  args: {},
  handler: async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return { uuid: crypto.randomUUID(), bytes: Array.from(bytes), random: Math.random() };
  },
});

export const timers = query({
  args: {},
  handler: async () => {
    console.time("t");
    console.time("t");
    console.timeLog("t", "more");
    console.timeEnd("t");
    console.timeEnd("t");
    return null;
  },
});
