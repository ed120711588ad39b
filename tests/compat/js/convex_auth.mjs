// Convex Auth (@convex-dev/auth, Password provider) through the official npm clients.
// Usage: node convex_auth.mjs <deploymentUrl> <email> <password>; prints JSON lines, exits 0
// on success. The app is tests/apps/auth_app.
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";

const api = anyApi;
const [url, email, password] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const timer = setTimeout(() => {
  out({ error: "timed out" });
  process.exit(1);
}, 120_000);
const errorText = async (f) => {
  try {
    await f();
    return null;
  } catch (e) {
    return String(e.message || e);
  }
};

// Sign up, then call authenticated functions over HTTP with the issued token.
const http = new ConvexHttpClient(url);
const signedUp = await http.action(api.auth.signIn, { provider: "password", params: { email, password, flow: "signUp" } });
out({ signUpTokens: Object.keys(signedUp.tokens ?? {}).sort() });
http.setAuth(signedUp.tokens.token);
const me = await http.query(api.notes.me, {});
await http.mutation(api.notes.add, { text: "first note" });
out({ me, notes: await http.query(api.notes.mine, {}) });

// A new client signs in with the password; a wrong password is refused.
const again = new ConvexHttpClient(url);
out({ anonymous: await again.query(api.notes.me, {}) });
const wrong = await errorText(() => again.action(api.auth.signIn, { provider: "password", params: { email, password: password + "x", flow: "signIn" } }));
out({ wrongPassword: wrong });
const signedIn = await again.action(api.auth.signIn, { provider: "password", params: { email, password, flow: "signIn" } });
again.setAuth(signedIn.tokens.token);
out({ signedInMe: await again.query(api.notes.me, {}) });

// The WebSocket client authenticates with the same token and sees the user's data.
const live = new ConvexClient(url);
live.setAuth(async () => signedIn.tokens.token);
const liveNotes = await new Promise((resolve, reject) => {
  const unsub = live.onUpdate(api.notes.mine, {}, (v) => {
    if (v.length > 0) {
      unsub();
      resolve(v);
    }
  }, reject);
});
out({ liveNotes, liveMe: await live.query(api.notes.me, {}) });
await live.close();
clearTimeout(timer);
out({ ok: true });
