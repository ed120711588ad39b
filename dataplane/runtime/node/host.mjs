// Node.js host for "use node" actions: one process per deployment, driven by Python.
//
// argv[2] is the directory holding the pushed node modules (ESM, as the CLI bundles them).
// Channel: line-delimited JSON. Python -> host on stdin: {t:"call", id, path, args,
// requestId}, {t:"reply", id, ok, result | error}, {t:"analyze", id}. Host -> Python on the
// real stdout: {t:"syscall", id, call, op, args}, {t:"done", id, ok, result | error, logLines}.
// User writes to process.stdout go to stderr so they cannot corrupt the channel.
import { AsyncLocalStorage } from "node:async_hooks";
import dgram from "node:dgram";
import dns from "node:dns";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import util from "node:util";

const modulesDir = path.resolve(process.argv[2] || ".");
const allowPrivate = process.argv[3] === "allow-private";

// ------------------------------------------------------------------ network policy
// The same rule as fetch() in V8 actions (dataplane/runtime/egress.py refusal):
// link-local (cloud metadata), multicast and unspecified addresses never; loopback and
// private networks only if the operator allows them. Every TCP connection (net, tls, http,
// fetch) goes through net.Socket.prototype.connect, so the check sits there; unix sockets
// and UDP are refused outright.
const never = new net.BlockList();
never.addSubnet("169.254.0.0", 16, "ipv4");
never.addSubnet("224.0.0.0", 4, "ipv4");
never.addSubnet("0.0.0.0", 8, "ipv4");
never.addSubnet("fe80::", 10, "ipv6");
never.addSubnet("ff00::", 8, "ipv6");
never.addAddress("::", "ipv6");
const privateNets = new net.BlockList();
for (const [a, p] of [["127.0.0.0", 8], ["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["100.64.0.0", 10], ["240.0.0.0", 4]]) privateNets.addSubnet(a, p, "ipv4");
privateNets.addAddress("::1", "ipv6");
privateNets.addSubnet("fc00::", 7, "ipv6");
function deniedReason(address) {
  let addr = String(address);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) addr = mapped[1];
  const type = net.isIPv4(addr) ? "ipv4" : net.isIPv6(addr) ? "ipv6" : null;
  if (type === null) return `an invalid address ${addr}`;
  if (never.check(addr, type)) return `address ${addr} is not allowed`;
  if (!allowPrivate && privateNets.check(addr, type)) return `private address ${addr} is not allowed`;
  return null;
}
function networkError(message) {
  const e = new Error(`Network access denied: ${message}`);
  e.code = "ERR_ACCESS_DENIED";
  return e;
}
function guardedLookup(original) {
  return (hostname, options, callback) => {
    if (typeof options === "function") { callback = options; options = {}; }
    (original || dns.lookup)(hostname, options, (err, address, family) => {
      if (err) return callback(err);
      const list = Array.isArray(address) ? address : [{ address, family }];
      for (const a of list) {
        const why = deniedReason(a.address);
        if (why) return callback(networkError(`${hostname}: ${why}`));
      }
      callback(null, address, family);
    });
  };
}
const realConnect = net.Socket.prototype.connect;
function connect(...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0];
  if (typeof options !== "object" || options === null) {
    options = typeof options === "string" && !/^\d+$/.test(options) ? { path: options } : { port: options, host: typeof args[1] === "string" ? args[1] : undefined };
    const cb = args.find((a) => typeof a === "function");
    return connect.call(this, options, ...(cb ? [cb] : []));
  }
  if (options.path !== undefined) throw networkError("unix domain sockets are not available");
  const host = options.host || "localhost";
  if (net.isIP(host)) {
    const why = deniedReason(host);
    if (why) throw networkError(why);
    return realConnect.apply(this, args);
  }
  const guarded = { ...options, lookup: guardedLookup(options.lookup) };
  return realConnect.call(this, guarded, ...args.slice(1).filter((a) => typeof a === "function"));
}
Object.defineProperty(net.Socket.prototype, "connect", { value: connect, writable: false, configurable: false });
for (const fn of ["createSocket", "Socket"]) {
  Object.defineProperty(dgram, fn, { value: () => { throw networkError("UDP sockets are not available"); }, writable: false, configurable: false });
}
const rawWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, encoding, cb) => process.stderr.write(chunk, encoding, cb);
const send = (msg) => rawWrite(JSON.stringify(msg) + "\n");

const MAX_LOG_LINES = 256;
const MAX_LOG_LINE = 32768;
const calls = new AsyncLocalStorage();
const waiting = new Map();
let nextSyscall = 1;

function logLine(level, args) {
  const call = calls.getStore();
  let message = util.formatWithOptions({ colors: false, depth: 4 }, ...args);
  if (!call) {
    process.stderr.write(`[${level}] ${message}\n`);
    return;
  }
  call.count++;
  if (call.count > MAX_LOG_LINES) {
    if (call.count === MAX_LOG_LINES + 1) {
      call.logs.push({ level: "ERROR", message: `Log overflow (maximum ${MAX_LOG_LINES}). Remaining log lines will be omitted.`, timestamp: Date.now() });
    }
    return;
  }
  if (message.length > MAX_LOG_LINE) message = message.slice(0, MAX_LOG_LINE) + " (truncated due to length)";
  call.logs.push({ level, message, timestamp: Date.now() });
}
for (const [method, level] of [["log", "LOG"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"]]) {
  console[method] = (...a) => logLine(level, a);
}

function hostError(info) {
  const err = new Error(info && info.message !== undefined ? info.message : String(info));
  if (info && info.data !== undefined && info.data !== null) err.data = info.data;
  return err;
}

function asyncSyscall(op, args) {
  const call = calls.getStore();
  if (!call) return Promise.reject(new Error(`${op} was called outside of a running action`));
  const id = nextSyscall++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    send({ t: "syscall", id, call: call.id, op, args });
  });
}

async function storeBlob(args) {
  const { blob, options } = args || {};
  if (!(blob instanceof Blob)) throw new Error("store() expects a Blob.");
  const bytes = Buffer.from(await blob.arrayBuffer());
  const sha256 = options && options.sha256 !== undefined ? options.sha256 : null;
  const text = await asyncSyscall("1.0/storageStore", JSON.stringify({ blob: bytes.toString("base64"), contentType: blob.type || null, sha256 }));
  return JSON.parse(text);
}

async function getBlob(args) {
  const storageId = args ? args.storageId : undefined;
  const res = JSON.parse(await asyncSyscall("1.0/storageGet", JSON.stringify({ storageId })));
  return res === null ? null : new Blob([Buffer.from(res.blob, "base64")], { type: res.contentType || "" });
}

const convex = {
  syscall(op) {
    throw new Error(`${op} is not available in Node.js actions: use ctx.runQuery / ctx.runMutation`);
  },
  asyncSyscall,
  jsSyscall(op, args) {
    if (op === "storage/storeBlob") return storeBlob(args);
    if (op === "storage/getBlob") return getBlob(args);
    throw new Error(`Operation ${op} is not supported by this runtime`);
  },
};
Object.defineProperty(globalThis, "Convex", { value: Object.freeze(convex), writable: false, configurable: false });

const loaded = new Map();
async function loadModule(mod) {
  if (!/\.[cm]?js$/.test(mod)) mod += ".js";
  const file = path.resolve(modulesDir, mod);
  if (!file.startsWith(modulesDir + path.sep)) throw new Error(`Invalid module path ${JSON.stringify(mod)}`);
  if (!loaded.has(mod)) loaded.set(mod, import(pathToFileURL(file).href));
  return [mod, await loaded.get(mod)];
}

function describeKind(f) {
  return f.isQuery ? "query" : f.isMutation ? "mutation" : f.isAction ? "action" : f.isHttp ? "httpAction" : "unknown";
}

// Stack paths without the worker's temp dir or the server's own files.
const workdirPrefix = path.dirname(modulesDir) + path.sep;
const hostFile = fileURLToPath(import.meta.url);
function tidyStack(stack) {
  return String(stack || "")
    .split(import.meta.url).join("<strata node host>")
    .split(hostFile).join("<strata node host>")
    .split(workdirPrefix).join("");
}

function describeError(e) {
  if (e === null || typeof e !== "object") return { name: "Error", message: String(e), stack: "" };
  const out = { name: String(e.name || "Error"), message: String(e.message === undefined ? e : e.message), stack: tidyStack(e.stack) };
  if (Symbol.for("ConvexError") in e || e.name === "ConvexError") {
    out.convexErrorData = typeof e.data === "string" ? e.data : JSON.stringify(e.data === undefined ? null : e.data);
  } else if (e.data !== undefined) {
    try { out.convexErrorData = JSON.stringify(e.data); } catch (x) {}
  }
  return out;
}

async function invoke(msg) {
  const call = { id: msg.id, logs: [], count: 0 };
  await calls.run(call, async () => {
    try {
      const [modName, name] = String(msg.path).split(":");
      const [, exports] = await loadModule(modName);
      const f = exports[name || "default"];
      if (!f) throw new Error(`Could not find function for '${msg.path}'`);
      if (!f.isAction) throw new Error(`Trying to execute ${msg.path} as Action, but it is defined as ${describeKind(f)}.`);
      const result = await f.invokeAction(msg.requestId, msg.args);
      send({ t: "done", id: msg.id, ok: true, result: result === undefined ? "null" : result, logLines: call.logs });
    } catch (e) {
      send({ t: "done", id: msg.id, ok: false, error: describeError(e), logLines: call.logs });
    }
  });
}

async function analyze(msg) {
  try {
    const functions = [];
    for (const mod of msg.modules) {
      const [modPath, exports] = await loadModule(mod);
      for (const name of Object.keys(exports)) {
        const f = exports[name];
        if (!f || (typeof f !== "function" && typeof f !== "object")) continue;
        if (!(f.isQuery || f.isMutation || f.isAction || f.isHttp)) continue;
        functions.push({
          module: modPath,
          name,
          kind: describeKind(f),
          visibility: f.isPublic ? "public" : "internal",
          args: typeof f.exportArgs === "function" ? f.exportArgs() : null,
          returns: typeof f.exportReturns === "function" ? f.exportReturns() : null,
        });
      }
    }
    send({ t: "done", id: msg.id, ok: true, result: JSON.stringify(functions), logLines: [] });
  } catch (e) {
    send({ t: "done", id: msg.id, ok: false, error: describeError(e), logLines: [] });
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let msg;
  try { msg = JSON.parse(line); } catch (e) { process.stderr.write(`bad host message: ${e}\n`); return; }
  if (msg.t === "reply") {
    const w = waiting.get(msg.id);
    if (w === undefined) return;
    waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.result);
    else w.reject(hostError(msg.error));
  } else if (msg.t === "call") {
    invoke(msg);
  } else if (msg.t === "analyze") {
    analyze(msg);
  }
});
lines.on("close", () => process.exit(0));
process.on("unhandledRejection", (e) => process.stderr.write(`unhandled rejection: ${e && e.stack ? e.stack : e}\n`));
send({ t: "ready" });
