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
import { createRequire, findSourceMap } from "node:module";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

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
// IPv6 spellings of an IPv4 address (mapped, NAT64, compatible, 6to4) are judged as it.
function ipv6Words(address) {
  let text = address.split("%")[0];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = text.slice(0, dotted.index) + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const words = [...h, ...Array(Math.max(fill, 0)).fill("0"), ...t].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : null;
}
function embeddedIPv4(address) {
  if (!net.isIPv6(address)) return null;
  const w = ipv6Words(address);
  if (w === null) return null;
  const v4 = (hi, lo) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zero = (from, to) => w.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && w[5] === 0xffff) return v4(w[6], w[7]); // mapped
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return v4(w[6], w[7]); // NAT64
  if (zero(0, 6) && (w[6] !== 0 || w[7] > 1)) return v4(w[6], w[7]); // compatible
  if (w[0] === 0x2002) return v4(w[1], w[2]); // 6to4
  return null;
}
function deniedReason(address) {
  let addr = String(address);
  addr = embeddedIPv4(addr) ?? addr;
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
  // A pipe exactly when Node makes one (`!!path`): node:http passes `path: null` for TCP.
  if (options.path) throw networkError("unix domain sockets are not available");
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
// Every message to the server carries the channel key the server sent first on stdin: user
// code can still write bytes to fd 1 (fs.writeSync(1, ...)), but it cannot know the key, so
// the server drops what it forges (a fake result, a syscall under another call's identity).
// `stringify` is taken before any user module loads, so patching JSON cannot read the key.
const stringify = JSON.stringify;
let channelKey = null;
const send = (msg) => rawWrite(stringify({ ...msg, k: channelKey }) + "\n");

const MAX_LOG_LINES = 256;
const MAX_LOG_LINE = 32768;
const calls = new AsyncLocalStorage();
const waiting = new Map();
let nextSyscall = 1;

// Log lines are formatted as in V8 functions (dataplane/runtime/js/runtime.js), as Convex
// formats them in both runtimes: each argument inspected, strings quoted, joined by spaces.
// A string takes the first quote it does not contain, as Node's util.inspect picks it.
function quote(v) {
  if (!v.includes("'")) return "'" + v + "'";
  if (!v.includes('"')) return '"' + v + '"';
  if (!v.includes("`") && !v.includes("${")) return "`" + v + "`";
  return "'" + v.replace(/'/g, "\\'") + "'";
}
function inspect(v, depth, seen) {
  if (typeof v === "string") return quote(v);
  if (typeof v === "bigint") return v.toString() + "n";
  if (typeof v === "function") return "[Function: " + (v.name || "(anonymous)") + "]";
  if (typeof v === "symbol") return v.toString();
  if (v === null || typeof v !== "object") return String(v);
  if (v instanceof Error) return v.stack || String(v);
  if (seen.includes(v)) return "[Circular]";
  if (depth > 4) return Array.isArray(v) ? "[Array]" : "[Object]";
  seen = seen.concat([v]);
  if (Array.isArray(v)) return "[ " + v.map((x) => inspect(x, depth + 1, seen)).join(", ") + " ]";
  if (v instanceof ArrayBuffer) return "ArrayBuffer { byteLength: " + v.byteLength + " }";
  if (ArrayBuffer.isView(v)) return v.constructor.name + "(" + v.length + ") [ " + Array.from(v).join(", ") + " ]";
  if (v instanceof Map) return "Map(" + v.size + ") { " + [...v].map(([k, x]) => inspect(k, depth + 1, seen) + " => " + inspect(x, depth + 1, seen)).join(", ") + " }";
  if (v instanceof Set) return "Set(" + v.size + ") { " + [...v].map((x) => inspect(x, depth + 1, seen)).join(", ") + " }";
  if (v instanceof Date) return v.toISOString();
  const keys = Object.keys(v);
  if (keys.length === 0) return "{}";
  return "{ " + keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : "'" + k + "'") + ": " + inspect(v[k], depth + 1, seen)).join(", ") + " }";
}

function logLine(level, args) {
  const call = calls.getStore();
  let message = args.map((a) => inspect(a, 0, [])).join(" ");
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
// console.time and friends as Convex words them: whole milliseconds, a warning for a timer
// started twice or never started. Timers belong to the running action.
const outsideTimers = new Map();
function timersOf() {
  const call = calls.getStore();
  return call ? call.timers : outsideTimers;
}
function elapsed(timers, label) {
  return `${label}: ${Date.now() - timers.get(label)}ms`;
}
console.time = (label = "default") => {
  label = String(label);
  const timers = timersOf();
  if (timers.has(label)) logLine("WARN", [`Timer '${label}' already exists`]);
  else timers.set(label, Date.now());
};
console.timeLog = (label = "default", ...data) => {
  label = String(label);
  const timers = timersOf();
  if (!timers.has(label)) logLine("WARN", [`Timer '${label}' does not exist`]);
  else logLine("LOG", [elapsed(timers, label), ...data]);
};
console.timeEnd = (label = "default") => {
  label = String(label);
  const timers = timersOf();
  if (!timers.has(label)) logLine("WARN", [`Timer '${label}' does not exist`]);
  else {
    logLine("LOG", [elapsed(timers, label)]);
    timers.delete(label);
  }
};

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
    keepAlive();
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

// The CLI bundles "use node" modules as ESM; `require()` left in them (of Node built-ins and
// of external packages) goes through esbuild's shim to a global `require`, which Convex's
// Node runtime provides resolving from the modules' directory (node_modules next to them).
globalThis.require = createRequire(path.join(modulesDir, "package.json"));

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

// Stacks as user code reads them (`new Error().stack`) name the pushed modules as Convex does,
// convex:/user/<module>.js, at positions in the bundled JavaScript. The frames are kept on the
// error so that an error reported back (describeError) can name the user's source files
// through the pushed source maps instead.
const FRAMES = Symbol("strata.frames");
const modulesUrl = pathToFileURL(modulesDir).href + "/";
function userFrame(text) {
  return text.split(modulesUrl).join("convex:/user/");
}
Error.prepareStackTrace = (err, callsites) => {
  const frames = callsites.map((cs) => ({ text: String(cs), file: cs.getFileName(), line: cs.getLineNumber(), column: cs.getColumnNumber() }));
  if (err !== null && typeof err === "object") {
    try { Object.defineProperty(err, FRAMES, { value: frames, enumerable: false, configurable: true }); } catch (x) {}
  }
  let header;
  try { header = Error.prototype.toString.call(err); } catch (x) { header = "Error"; }
  // The host's own frames never show where the server's files live.
  return tidyStack(header + frames.map((f) => "\n    at " + userFrame(f.text)).join(""));
};
function mappedFrame(f) {
  if (!f.file || !f.line || !f.column) return userFrame(f.text);
  let entry;
  try { entry = findSourceMap(f.file)?.findEntry(f.line - 1, f.column - 1); } catch (x) { entry = null; }
  if (!entry || !entry.originalSource) return userFrame(f.text);
  let source = entry.originalSource;
  if (source.startsWith("file:")) source = fileURLToPath(source);
  return f.text.replace(`${f.file}:${f.line}:${f.column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}
function reportedStack(e) {
  const raw = e.stack;  // computes FRAMES on first access
  const frames = e[FRAMES];
  if (!Array.isArray(frames) || typeof raw !== "string") return tidyStack(raw);
  const header = raw.split("\n    at ")[0];
  return tidyStack(header + frames.map((f) => "\n    at " + mappedFrame(f)).join(""));
}

function describeError(e) {
  if (e === null || typeof e !== "object") return { name: "Error", message: String(e), stack: "" };
  const out = { name: String(e.name || "Error"), message: String(e.message === undefined ? e : e.message), stack: reportedStack(e) };
  if (Symbol.for("ConvexError") in e || e.name === "ConvexError") {
    out.convexErrorData = typeof e.data === "string" ? e.data : JSON.stringify(e.data === undefined ? null : e.data);
  } else if (e.data !== undefined) {
    try { out.convexErrorData = JSON.stringify(e.data); } catch (x) {}
  }
  return out;
}

const running = new Map();  // call id -> call, until its "done" is sent
function finish(call, outcome) {
  if (!running.has(call.id)) return;  // already failed by an uncaught exception
  running.delete(call.id);
  keepAlive();
  send({ t: "done", id: call.id, ...outcome, logLines: call.logs });
}

// An action that awaits a promise nothing can settle any more (no timer, no I/O, no thread
// pool work, no reply due from the server) would certainly run out of time; Node's event loop
// says so by running empty. Stdin keeps the loop alive only while no action runs or one waits
// for a reply, so "beforeExit" fires exactly then, and those actions end as timed out at once.
function keepAlive() {
  if (running.size > 0 && waiting.size === 0) process.stdin.unref();
  else process.stdin.ref();
}
process.on("beforeExit", () => {
  for (const call of [...running.values()]) {
    const error = { name: "Error", message: "The action awaits a promise that nothing can settle", stack: "" };
    finish(call, { ok: false, stalled: true, error });
  }
  keepAlive();
});

async function invoke(msg) {
  const call = { id: msg.id, logs: [], count: 0, timers: new Map() };
  running.set(call.id, call);
  keepAlive();
  await calls.run(call, async () => {
    try {
      const [modName, name] = String(msg.path).split(":");
      const [, exports] = await loadModule(modName);
      const f = exports[name || "default"];
      if (!f) throw new Error(`Could not find function for '${msg.path}'`);
      if (!f.isAction) throw new Error(`Trying to execute ${msg.path} as Action, but it is defined as ${describeKind(f)}.`);
      const result = await f.invokeAction(msg.requestId, msg.args);
      finish(call, { ok: true, result: result === undefined ? "null" : result });
    } catch (e) {
      finish(call, { ok: false, error: describeError(e) });
    }
  });
}

// An exception thrown where nothing catches it (a callback, a timer) fails the action it was
// thrown from with `uncaughtException: <message>`, as on Convex; the host carries on. One
// that belongs to no action fails every running action and restarts the host.
process.on("uncaughtException", (e) => {
  const error = describeError(e);
  const failure = { ok: false, error: { ...error, message: `uncaughtException: ${error.message}` } };
  const call = calls.getStore();
  if (call && running.has(call.id)) {
    finish(call, failure);
    return;
  }
  process.stderr.write(`uncaught exception outside any action: ${error.stack || error.message}\n`);
  for (const other of [...running.values()]) finish(other, failure);
  process.exit(1);
});

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
  if (msg.t === "hello" && channelKey === null) {
    channelKey = String(msg.k);
    send({ t: "ready" });
    return;
  }
  if (msg.t === "reply") {
    const w = waiting.get(msg.id);
    if (w === undefined) return;
    waiting.delete(msg.id);
    keepAlive();
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
