// Strata host runtime, evaluated in every isolate before the app bundle.
// It provides what convex/server expects from the Convex backend: the `Convex` syscall global,
// web APIs missing from bare V8, a capturing console, determinism for queries and mutations,
// and the entry points Python drives (__strata.invoke / pump / analyze).
// Python installs __strataNotify (a synchronous callback) and __strataSab (the shared buffer
// both sides exchange UTF-16 messages through) before evaluating this file.
(function () {
  "use strict";
  const g = globalThis;
  const notify = g.__strataNotify;
  const sab = g.__strataSab;
  const reqSab = g.__strataReqSab;
  const makeWebCrypto = g.__strataWebCrypto;
  delete g.__strataReqSab;
  delete g.__strataWebCrypto;
  delete g.__strataNotify;
  delete g.__strataSab;

  // ------------------------------------------------------------------ sync channel
  // header: [0]=request length, [1]=response length, [2]=flags (1: more request follows,
  // 2: send me the next response chunk, 4 in response: more response follows)
  const hdr = new Int32Array(sab, 0, 4);
  const u16 = new Uint16Array(sab, 16);
  const CAP = u16.length;
  const fromCodes = String.fromCharCode;

  function writeChunk(s, start, end, flags) {
    const n = end - start;
    for (let i = 0; i < n; i++) u16[i] = s.charCodeAt(start + i);
    hdr[0] = n;
    hdr[2] = flags;
    notify();
  }
  function readChunk() {
    const m = hdr[1];
    let out = "";
    for (let i = 0; i < m; i += 8192) out += fromCodes.apply(null, u16.subarray(i, Math.min(m, i + 8192)));
    return out;
  }
  function rawCall(s) {
    let start = 0;
    while (s.length - start > CAP) {
      writeChunk(s, start, start + CAP, 1);
      start += CAP;
    }
    writeChunk(s, start, s.length, 0);
    let out = readChunk();
    while (hdr[2] & 4) {
      hdr[0] = 0;
      hdr[2] = 2;
      notify();
      out += readChunk();
    }
    return out;
  }
  class SyscallError extends Error {}
  function hostError(payload) {
    let info;
    try {
      info = JSON.parse(payload);
    } catch (e) {
      info = { message: payload };
    }
    const err = new Error(info.message);
    if (info.data !== undefined && info.data !== null) err.data = info.data;
    return err;
  }
  // The next call's request, placed by Python before it starts the call: [0]=length, [1]=1
  // while unread.
  const reqHdr = new Int32Array(reqSab, 0, 4);
  const reqU16 = new Uint16Array(reqSab, 16);
  function takePreloadedRequest() {
    if (reqHdr[1] !== 1) return null;
    reqHdr[1] = 0;
    const m = reqHdr[0];
    let out = "";
    for (let i = 0; i < m; i += 8192) out += fromCodes.apply(null, reqU16.subarray(i, Math.min(m, i + 8192)));
    return out;
  }
  function call(op, args) {
    // Between calls (after finish(), before the next invoke) the host may already serve the
    // next call: a dangling promise of a finished call must not reach it.
    if (betweenCalls && op !== "strata/request" && op !== "strata/done") {
      throw new Error("This operation ran after its function finished");
    }
    const out = rawCall(op + "\n" + args);
    if (out.charCodeAt(0) === 49) throw hostError(out.slice(1));
    return out.slice(1);
  }

  // ------------------------------------------------------------------ per-call state
  let kind = null; // "query" | "mutation" | "action" | "http" while a call runs
  let betweenCalls = false; // a call finished and the next has not started
  let frozenNow = null;
  let rng = [1, 2, 3, 4];
  let logLines = [];
  let logCount = 0;
  let envVars = {};
  const pending = new Map();
  const MAX_LOG_LINES = 256;
  const MAX_LOG_LINE = 4096;
  const isDeterministic = () => kind === "query" || kind === "mutation";

  // ------------------------------------------------------------------ console
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
    logCount++;
    if (logCount > MAX_LOG_LINES) {
      if (logCount === MAX_LOG_LINES + 1) {
        logLines.push({ level: "ERROR", message: "Log overflow (maximum " + MAX_LOG_LINES + "). Remaining log lines will be omitted.", timestamp: Date.now() });
      }
      return;
    }
    let message = args.map((a) => inspect(a, 0, [])).join(" ");
    if (message.length > MAX_LOG_LINE) message = message.slice(0, MAX_LOG_LINE) + " (truncated due to length)";
    logLines.push({ level, message, timestamp: RealDate.now() });
  }
  const timers = new Map();
  const counts = new Map();
  g.console = {
    log: (...a) => logLine("LOG", a),
    info: (...a) => logLine("INFO", a),
    warn: (...a) => logLine("WARN", a),
    error: (...a) => logLine("ERROR", a),
    debug: (...a) => logLine("DEBUG", a),
    trace: (...a) => logLine("LOG", a.concat([new Error().stack.split("\n").slice(1).join("\n")])),
    assert: (cond, ...a) => { if (!cond) logLine("ERROR", ["Assertion failed:"].concat(a)); },
    // As Convex words them: whole milliseconds; a warning for a timer started twice or never.
    time: (label = "default") => {
      label = String(label);
      if (timers.has(label)) logLine("WARN", ["Timer '" + label + "' already exists"]);
      else timers.set(label, Date.now());
    },
    timeEnd: (label = "default") => {
      label = String(label);
      if (!timers.has(label)) return logLine("WARN", ["Timer '" + label + "' does not exist"]);
      logLine("LOG", [label + ": " + Math.round(Date.now() - timers.get(label)) + "ms"]);
      timers.delete(label);
    },
    timeLog: (label = "default", ...a) => {
      label = String(label);
      if (!timers.has(label)) return logLine("WARN", ["Timer '" + label + "' does not exist"]);
      logLine("LOG", [label + ": " + Math.round(Date.now() - timers.get(label)) + "ms"].concat(a));
    },
    count: (label = "default") => { const n = (counts.get(label) || 0) + 1; counts.set(label, n); logLine("LOG", [label + ": " + n]); },
    table: (...a) => logLine("LOG", a),
    dir: (...a) => logLine("LOG", a),
  };

  // ------------------------------------------------------------------ determinism
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  function now() {
    return frozenNow !== null ? frozenNow : realNow();
  }
  const DateShim = new Proxy(RealDate, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length ? args : [now()], newTarget === DateShim ? target : newTarget);
    },
    apply(target, thisArg, args) {
      return new target(now()).toString();
    },
    get(target, prop, receiver) {
      if (prop === "now") return now;
      return Reflect.get(target, prop, target);
    },
  });
  g.Date = DateShim;
  function xoshiro() {
    const r = rng;
    const result = (((r[1] * 5) << 7) | ((r[1] * 5) >>> 25)) * 9;
    const t = r[1] << 9;
    r[2] ^= r[0]; r[3] ^= r[1]; r[1] ^= r[2]; r[0] ^= r[3]; r[2] ^= t;
    r[3] = (r[3] << 11) | (r[3] >>> 21);
    return (result >>> 0) / 4294967296;
  }
  // 128 bits of seed from the host: per call random for mutations and actions, derived from
  // (function, args, snapshot) for queries so a re-run at the same snapshot is identical.
  function seed(words) {
    rng = Array.isArray(words) && words.length === 4 ? words.map((w) => w >>> 0) : [1, 2, 3, 4];
    if ((rng[0] | rng[1] | rng[2] | rng[3]) === 0) rng[0] = 1;
  }
  Math.random = xoshiro;

  // ------------------------------------------------------------------ encoding
  class TextEncoder {
    get encoding() { return "utf-8"; }
    encode(input = "") {
      const s = String(input);
      const out = [];
      for (let i = 0; i < s.length; i++) {
        let c = s.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
          else c = 0xfffd;
        } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
    encodeInto(s, dest) {
      const b = this.encode(s);
      const n = Math.min(b.length, dest.length);
      dest.set(b.subarray(0, n));
      return { read: s.length, written: n };
    }
  }
  class TextDecoder {
    constructor(label = "utf-8", options = {}) {
      const l = String(label).toLowerCase();
      if (l !== "utf-8" && l !== "utf8") throw new RangeError("TextDecoder only supports utf-8, got " + label);
      this.fatal = !!options.fatal;
      this.ignoreBOM = !!options.ignoreBOM;
    }
    get encoding() { return "utf-8"; }
    decode(input) {
      if (input === undefined) return "";
      const b = toBytes(input);
      let out = "";
      const parts = [];
      let i = 0;
      if (!this.ignoreBOM && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
      const bad = () => { if (this.fatal) throw new TypeError("The encoded data was not valid utf-8"); return 0xfffd; };
      const codes = [];
      while (i < b.length) {
        const c = b[i++];
        let cp;
        if (c < 0x80) cp = c;
        else if (c >= 0xc2 && c < 0xe0 && i < b.length && (b[i] & 0xc0) === 0x80) cp = ((c & 31) << 6) | (b[i++] & 63);
        else if (c >= 0xe0 && c < 0xf0 && i + 1 < b.length && (b[i] & 0xc0) === 0x80 && (b[i + 1] & 0xc0) === 0x80) {
          cp = ((c & 15) << 12) | ((b[i] & 63) << 6) | (b[i + 1] & 63); i += 2;
          if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) cp = bad();
        } else if (c >= 0xf0 && c < 0xf5 && i + 2 < b.length && (b[i] & 0xc0) === 0x80 && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
          cp = ((c & 7) << 18) | ((b[i] & 63) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63); i += 3;
          if (cp < 0x10000 || cp > 0x10ffff) cp = bad();
        } else cp = bad();
        if (cp > 0xffff) { cp -= 0x10000; codes.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023)); }
        else codes.push(cp);
        if (codes.length > 8000) { parts.push(fromCodes.apply(null, codes)); codes.length = 0; }
      }
      parts.push(fromCodes.apply(null, codes));
      out = parts.join("");
      return out;
    }
  }
  function toBytes(input) {
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer || input instanceof SharedArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("Expected an ArrayBuffer or ArrayBufferView");
  }
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64C = Uint8Array.from(B64, (c) => c.charCodeAt(0));
  const B64V = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) B64V[B64.charCodeAt(i)] = i;
  // Encodes in blocks into flat strings: appending 4 characters at a time would build a
  // rope of millions of pieces (storage.store of a few MB ran out of heap that way).
  function bytesToB64(b) {
    const parts = [];
    const BLOCK = 3 * 8192;
    for (let start = 0; start < b.length; start += BLOCK) {
      const end = Math.min(start + BLOCK, b.length);
      const out = new Uint8Array(Math.ceil((end - start) / 3) * 4);
      let j = 0;
      for (let i = start; i < end; i += 3) {
        const n = (b[i] << 16) | ((i + 1 < end ? b[i + 1] : 0) << 8) | (i + 2 < end ? b[i + 2] : 0);
        out[j++] = B64C[(n >> 18) & 63];
        out[j++] = B64C[(n >> 12) & 63];
        out[j++] = i + 1 < end ? B64C[(n >> 6) & 63] : 61;
        out[j++] = i + 2 < end ? B64C[n & 63] : 61;
      }
      parts.push(String.fromCharCode.apply(null, out));
    }
    return parts.join("");
  }
  function b64ToBytes(s) {
    s = String(s).replace(/[\t\n\f\r ]/g, "");
    if (s.length % 4 === 0) s = s.replace(/==?$/, "");
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
    const out = new Uint8Array(Math.floor((s.length * 3) / 4));
    let j = 0;
    for (let i = 0; i < s.length; i += 4) {
      const n = (B64V[s.charCodeAt(i)] << 18) | (B64V[s.charCodeAt(i + 1)] << 12) | (i + 2 < s.length ? B64V[s.charCodeAt(i + 2)] << 6 : 0) | (i + 3 < s.length ? B64V[s.charCodeAt(i + 3)] : 0);
      out[j++] = (n >> 16) & 255;
      if (i + 2 < s.length) out[j++] = (n >> 8) & 255;
      if (i + 3 < s.length) out[j++] = n & 255;
    }
    return out;
  }
  class DOMException extends Error {
    constructor(message = "", name = "Error") { super(message); this.name = name; }
  }
  g.DOMException = DOMException;
  g.TextEncoder = TextEncoder;
  g.TextDecoder = TextDecoder;
  g.btoa = (s) => {
    s = String(s);
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new DOMException("The string to be encoded contains characters outside of the Latin1 range.", "InvalidCharacterError");
      b[i] = c;
    }
    return bytesToB64(b);
  };
  g.atob = (s) => { const b = b64ToBytes(s); let out = ""; for (let i = 0; i < b.length; i += 8192) out += fromCodes.apply(null, b.subarray(i, i + 8192)); return out; };

  // ------------------------------------------------------------------ structuredClone
  g.structuredClone = function structuredClone(value) {
    const seen = new Map();
    function clone(v) {
      if (v === null || typeof v !== "object") {
        if (typeof v === "function" || typeof v === "symbol") throw new DOMException(String(v) + " could not be cloned.", "DataCloneError");
        return v;
      }
      if (seen.has(v)) return seen.get(v);
      let out;
      if (v instanceof RealDate) out = new RealDate(v.getTime());
      else if (v instanceof RegExp) out = new RegExp(v.source, v.flags);
      else if (v instanceof ArrayBuffer) out = v.slice(0);
      else if (ArrayBuffer.isView(v)) out = new v.constructor(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
      else if (v instanceof Map) { out = new Map(); seen.set(v, out); for (const [k, x] of v) out.set(clone(k), clone(x)); return out; }
      else if (v instanceof Set) { out = new Set(); seen.set(v, out); for (const x of v) out.add(clone(x)); return out; }
      else if (v instanceof Error) { out = new v.constructor(v.message); out.stack = v.stack; }
      else if (Array.isArray(v)) { out = []; seen.set(v, out); v.forEach((x, i) => { out[i] = clone(x); }); return out; }
      else { out = {}; seen.set(v, out); for (const k of Object.keys(v)) out[k] = clone(v[k]); return out; }
      seen.set(v, out);
      return out;
    }
    return clone(value);
  };
  g.queueMicrotask = (fn) => { Promise.resolve().then(fn); };

  // ------------------------------------------------------------------ URL
  const DEFAULT_PORTS = { "http:": "80", "https:": "443", "ws:": "80", "wss:": "443", "ftp:": "21" };
  function pctEncode(s, keep) {
    let out = "";
    for (const ch of s) {
      if (keep.test(ch)) out += ch;
      else for (const b of new TextEncoder().encode(ch)) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  }
  function decodeForm(s) {
    try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch (e) { return s; }
  }
  class URLSearchParams {
    constructor(init = "") {
      this._list = [];
      this._url = null;
      if (typeof init === "string") this._parse(init);
      else if (init instanceof URLSearchParams) this._list = init._list.map((p) => p.slice());
      else if (Array.isArray(init) || (init && typeof init[Symbol.iterator] === "function")) for (const [k, v] of init) this._list.push([String(k), String(v)]);
      else if (init && typeof init === "object") for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
    }
    _parse(s) {
      this._list = [];
      if (s.startsWith("?")) s = s.slice(1);
      for (const part of s.split("&")) {
        if (!part) continue;
        const i = part.indexOf("=");
        this._list.push(i < 0 ? [decodeForm(part), ""] : [decodeForm(part.slice(0, i)), decodeForm(part.slice(i + 1))]);
      }
    }
    _update() { if (this._url) { const s = this.toString(); this._url._search = s ? "?" + s : ""; } }
    get size() { return this._list.length; }
    append(k, v) { this._list.push([String(k), String(v)]); this._update(); }
    delete(k) { this._list = this._list.filter(([x]) => x !== String(k)); this._update(); }
    get(k) { const p = this._list.find(([x]) => x === String(k)); return p ? p[1] : null; }
    getAll(k) { return this._list.filter(([x]) => x === String(k)).map((p) => p[1]); }
    has(k) { return this._list.some(([x]) => x === String(k)); }
    set(k, v) {
      k = String(k);
      const i = this._list.findIndex(([x]) => x === k);
      if (i < 0) this._list.push([k, String(v)]);
      else { this._list[i][1] = String(v); this._list = this._list.filter(([x], j) => x !== k || j === i); }
      this._update();
    }
    sort() { this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._update(); }
    forEach(fn, thisArg) { for (const [k, v] of this._list) fn.call(thisArg, v, k, this); }
    keys() { return this._list.map((p) => p[0])[Symbol.iterator](); }
    values() { return this._list.map((p) => p[1])[Symbol.iterator](); }
    entries() { return this._list.map((p) => [p[0], p[1]])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() {
      const enc = (s) => pctEncode(s, /[A-Za-z0-9*\-._ ]/).replace(/ /g, "+");
      return this._list.map(([k, v]) => enc(k) + "=" + enc(v)).join("&");
    }
  }
  const URL_RE = /^([A-Za-z][A-Za-z0-9+.\-]*:)(?:\/\/(?:([^:@\/?#]*)(?::([^@\/?#]*))?@)?(\[[^\]]*\]|[^:\/?#]*)(?::(\d*))?)?([^?#]*)(\?[^#]*)?(#.*)?$/;
  function normalizePath(path, special) {
    const segs = path.split("/");
    const out = [];
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s === "..") { if (out.length > 1) out.pop(); if (i === segs.length - 1) out.push(""); }
      else if (s === ".") { if (i === segs.length - 1) out.push(""); }
      else out.push(s);
    }
    let p = out.join("/");
    if (special && !p.startsWith("/")) p = "/" + p;
    return pctEncode(p, /[A-Za-z0-9\-._~!$&'()*+,;=:@\/%]/);
  }
  class URL {
    constructor(url, base) {
      url = String(url).trim();
      let m = URL_RE.exec(url);
      if (!m) {
        if (base === undefined) throw new TypeError("Invalid URL: " + url);
        const b = base instanceof URL ? base : new URL(base);
        let path, search = "", hash = "";
        const hi = url.indexOf("#");
        if (hi >= 0) { hash = url.slice(hi); url = url.slice(0, hi); }
        const qi = url.indexOf("?");
        if (qi >= 0) { search = url.slice(qi); url = url.slice(0, qi); }
        if (url.startsWith("//")) { return new URL(b.protocol + url + search + hash); }
        if (url.startsWith("/")) path = url;
        else if (url === "") { path = b.pathname; if (qi < 0) search = b.search; }
        else path = b.pathname.replace(/[^\/]*$/, "") + url;
        m = URL_RE.exec(b.protocol + "//" + (b.username ? b.username + (b.password ? ":" + b.password : "") + "@" : "") + b.host + path + search + hash);
        if (!m) throw new TypeError("Invalid URL: " + url);
      }
      this._protocol = m[1].toLowerCase();
      const special = this._protocol in DEFAULT_PORTS;
      this._username = m[2] || "";
      this._password = m[3] || "";
      this._hostname = (m[4] || "").toLowerCase();
      if (special && !this._hostname && this._protocol !== "file:") throw new TypeError("Invalid URL: " + url);
      if (/[\s<>^|]/.test(this._hostname)) throw new TypeError("Invalid URL: " + url);
      this._port = m[5] && m[5] !== DEFAULT_PORTS[this._protocol] ? String(Number(m[5])) : "";
      if (this._port && Number(this._port) > 65535) throw new TypeError("Invalid URL: " + url);
      this._pathname = normalizePath(m[6] || (special ? "/" : ""), special);
      this._search = m[7] && m[7] !== "?" ? pctEncode(m[7], /[^\s"#<>]/) : "";
      this._hash = m[8] && m[8] !== "#" ? m[8] : "";
      this._sp = new URLSearchParams(this._search);
      this._sp._url = this;
    }
    get protocol() { return this._protocol; }
    set protocol(v) { this._protocol = String(v).replace(/:?$/, ":").toLowerCase(); }
    get username() { return this._username; }
    set username(v) { this._username = String(v); }
    get password() { return this._password; }
    set password(v) { this._password = String(v); }
    get hostname() { return this._hostname; }
    set hostname(v) { this._hostname = String(v).toLowerCase(); }
    get port() { return this._port; }
    set port(v) { this._port = String(v) === DEFAULT_PORTS[this._protocol] ? "" : String(v); }
    get host() { return this._hostname + (this._port ? ":" + this._port : ""); }
    set host(v) { const [h, p] = String(v).split(":"); this._hostname = h.toLowerCase(); this._port = p || ""; }
    get origin() { return this._protocol in DEFAULT_PORTS ? this._protocol + "//" + this.host : "null"; }
    get pathname() { return this._pathname; }
    set pathname(v) { this._pathname = normalizePath(String(v), this._protocol in DEFAULT_PORTS); }
    get search() { return this._search; }
    set search(v) { v = String(v); this._search = v && v !== "?" ? (v.startsWith("?") ? v : "?" + v) : ""; this._sp._parse(this._search); }
    get searchParams() { return this._sp; }
    get hash() { return this._hash; }
    set hash(v) { v = String(v); this._hash = v && v !== "#" ? (v.startsWith("#") ? v : "#" + v) : ""; }
    get href() {
      const auth = this._username ? this._username + (this._password ? ":" + this._password : "") + "@" : "";
      const slashes = this._hostname || this._protocol in DEFAULT_PORTS ? "//" : "";
      return this._protocol + slashes + auth + this.host + this._pathname + this._search + this._hash;
    }
    set href(v) { Object.assign(this, new URL(v)); }
    toString() { return this.href; }
    toJSON() { return this.href; }
    static canParse(u, b) { try { new URL(u, b); return true; } catch (e) { return false; } }
  }
  g.URL = URL;
  g.URLSearchParams = URLSearchParams;

  // ------------------------------------------------------------------ Blob / Headers / Request / Response
  function bodyToBytes(body) {
    if (body === undefined || body === null) return null;
    if (typeof body === "string") return new TextEncoder().encode(body);
    if (body instanceof Blob) return body._bytes;
    if (body instanceof URLSearchParams) return new TextEncoder().encode(body.toString());
    if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return toBytes(body).slice();
    return new TextEncoder().encode(String(body));
  }
  class Blob {
    constructor(parts = [], options = {}) {
      const chunks = parts.map((p) => (p instanceof Blob ? p._bytes : bodyToBytes(p)));
      const n = chunks.reduce((a, c) => a + c.length, 0);
      this._bytes = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) { this._bytes.set(c, o); o += c.length; }
      this.type = options.type ? String(options.type).toLowerCase() : "";
    }
    get size() { return this._bytes.length; }
    async text() { return new TextDecoder().decode(this._bytes); }
    async arrayBuffer() { return this._bytes.slice().buffer; }
    async bytes() { return this._bytes.slice(); }
    slice(start = 0, end = this.size, type = "") { const b = new Blob([], { type }); b._bytes = this._bytes.slice(start, end); return b; }
  }
  g.Blob = Blob;
  class Headers {
    constructor(init) {
      this._map = new Map();
      if (init instanceof Headers) for (const [k, v] of init) this.append(k, v);
      else if (Array.isArray(init)) for (const [k, v] of init) this.append(k, v);
      else if (init && typeof init === "object") for (const k of Object.keys(init)) this.append(k, init[k]);
    }
    append(k, v) { k = String(k).toLowerCase(); v = String(v); this._map.set(k, this._map.has(k) ? this._map.get(k) + ", " + v : v); }
    set(k, v) { this._map.set(String(k).toLowerCase(), String(v)); }
    get(k) { const v = this._map.get(String(k).toLowerCase()); return v === undefined ? null : v; }
    has(k) { return this._map.has(String(k).toLowerCase()); }
    delete(k) { this._map.delete(String(k).toLowerCase()); }
    forEach(fn, thisArg) { for (const [k, v] of this) fn.call(thisArg, v, k, this); }
    *entries() { yield* [...this._map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)); }
    keys() { return [...this.entries()].map((e) => e[0])[Symbol.iterator](); }
    values() { return [...this.entries()].map((e) => e[1])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    getSetCookie() { const v = this.get("set-cookie"); return v === null ? [] : [v]; }
  }
  g.Headers = Headers;
  class Body {
    _initBody(body, headers) {
      this._body = bodyToBytes(body);
      this.bodyUsed = false;
      if (typeof body === "string" && !headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
      if (body instanceof Blob && body.type && !headers.has("content-type")) headers.set("content-type", body.type);
      if (body instanceof URLSearchParams && !headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
    }
    _consume() {
      if (this.bodyUsed) throw new TypeError("Body has already been consumed.");
      this.bodyUsed = true;
      return this._body || new Uint8Array(0);
    }
    get body() { return this._body; }
    async arrayBuffer() { return this._consume().slice().buffer; }
    async bytes() { return this._consume().slice(); }
    async text() { return new TextDecoder().decode(this._consume()); }
    async json() { return JSON.parse(await this.text()); }
    async blob() { return new Blob([this._consume()], { type: this.headers.get("content-type") || "" }); }
    async formData() { throw new Error("formData() is not supported by this runtime"); }
  }
  class Request extends Body {
    constructor(input, init = {}) {
      super();
      const src = input instanceof Request ? input : null;
      this.url = src ? src.url : new URL(String(input)).href;
      this.method = String(init.method || (src ? src.method : "GET")).toUpperCase();
      this.headers = new Headers(init.headers || (src ? src.headers : undefined));
      this.signal = init.signal || null;
      this.redirect = init.redirect || "follow";
      const body = init.body !== undefined ? init.body : src ? src._body : null;
      if (body !== null && body !== undefined && (this.method === "GET" || this.method === "HEAD")) throw new TypeError("Request with GET/HEAD method cannot have body.");
      this._initBody(body, this.headers);
    }
    clone() { return new Request(this, { body: this._body }); }
  }
  class Response extends Body {
    constructor(body = null, init = {}) {
      super();
      this.status = init.status === undefined ? 200 : Number(init.status);
      if (!(this.status >= 200 && this.status <= 599)) throw new RangeError("Invalid response status " + init.status);
      this.statusText = init.statusText || "";
      this.headers = new Headers(init.headers);
      this.type = "default";
      this.url = init.url || "";
      this.redirected = false;
      this._initBody(body, this.headers);
    }
    get ok() { return this.status >= 200 && this.status < 300; }
    clone() { return new Response(this._body, { status: this.status, statusText: this.statusText, headers: this.headers }); }
    static json(data, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static redirect(url, status = 302) { return new Response(null, { status, headers: { location: String(url) } }); }
    static error() { const r = new Response(null, { status: 500 }); r.type = "error"; return r; }
  }
  g.Request = Request;
  g.Response = Response;
  class AbortSignal {
    constructor() { this.aborted = false; this.reason = undefined; this._listeners = []; this.onabort = null; }
    addEventListener(t, fn) { if (t === "abort") this._listeners.push(fn); }
    removeEventListener(t, fn) { this._listeners = this._listeners.filter((f) => f !== fn); }
    throwIfAborted() { if (this.aborted) throw this.reason; }
    static abort(reason) { const s = new AbortSignal(); s.aborted = true; s.reason = reason; return s; }
  }
  class AbortController {
    constructor() { this.signal = new AbortSignal(); }
    abort(reason = new DOMException("This operation was aborted", "AbortError")) {
      const s = this.signal;
      if (s.aborted) return;
      s.aborted = true; s.reason = reason;
      if (s.onabort) s.onabort({ type: "abort" });
      for (const fn of s._listeners) fn({ type: "abort" });
    }
  }
  g.AbortController = AbortController;
  g.AbortSignal = AbortSignal;

  // ------------------------------------------------------------------ async host operations
  // Actions may await real I/O (fetch, timers, ctx.runQuery...). JS asks Python to start the
  // work and gets a ticket; Python later calls __strata.pump() to deliver completions.
  function startOp(op, args) {
    if (kind !== "action" && kind !== "http") return Promise.reject(new Error(forbiddenMessage(op)));
    let ticket;
    try { ticket = call("strata/start", JSON.stringify({ op, args })); }
    catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => pending.set(ticket, { resolve, reject }));
  }
  function forbiddenMessage(op) {
    const what = op === "strata/fetch" ? "fetch()" : op === "strata/sleep" ? "setTimeout" : op;
    return "Can't use " + what + " in queries and mutations. Please consider using an action.";
  }
  g.fetch = async function fetch(input, init = {}) {
    const req = input instanceof Request && Object.keys(init).length === 0 ? input : new Request(input, init);
    if (req.signal && req.signal.aborted) throw req.signal.reason;
    const body = req._body ? bytesToB64(req._body) : null;
    const res = JSON.parse(await startOp("strata/fetch", JSON.stringify({ url: req.url, method: req.method, headers: [...req.headers], body })));
    const r = new Response(res.body === null ? null : b64ToBytes(res.body), { status: res.status, statusText: res.statusText, headers: res.headers });
    r.url = res.url;
    r.redirected = !!res.redirected;
    return r;
  };
  let nextTimer = 1;
  const activeTimers = new Map();
  g.setTimeout = function setTimeout(fn, ms = 0, ...args) {
    if (kind !== "action" && kind !== "http") throw new Error(forbiddenMessage("strata/sleep"));
    const id = nextTimer++;
    activeTimers.set(id, true);
    startOp("strata/sleep", JSON.stringify({ ms: Math.max(0, Number(ms) || 0) })).then(() => {
      if (activeTimers.delete(id)) { if (typeof fn === "function") fn(...args); }
    });
    return id;
  };
  g.clearTimeout = (id) => { activeTimers.delete(id); };
  g.setInterval = function setInterval(fn, ms = 0, ...args) {
    if (kind !== "action" && kind !== "http") throw new Error(forbiddenMessage("strata/sleep"));
    const id = nextTimer++;
    activeTimers.set(id, true);
    const tick = () => startOp("strata/sleep", JSON.stringify({ ms: Math.max(1, Number(ms) || 0) })).then(() => {
      if (activeTimers.has(id)) { fn(...args); tick(); }
    });
    tick();
    return id;
  };
  g.clearInterval = g.clearTimeout;

  // ------------------------------------------------------------------ crypto
  function randomBytes(n) {
    // Actions get the OS CSPRNG; queries and mutations must stay deterministic per seed.
    if (kind === "action" || kind === "http") return b64ToBytes(JSON.parse(call("strata/random", String(n))));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (xoshiro() * 256) | 0;
    return out;
  }
  // crypto.subtle and CryptoKey: js/webcrypto.js, served by dataplane/runtime/webcrypto.py.
  const { subtle, CryptoKey, SubtleCrypto } = makeWebCrypto({ call, toBytes, bytesToB64, b64ToBytes, DOMException });
  g.CryptoKey = CryptoKey;
  g.SubtleCrypto = SubtleCrypto;
  // The CLI maps `async_hooks` imports to these globals. V8 has no async context
  // propagation here, so a store is visible during the synchronous part of run().
  class AsyncLocalStorage {
    getStore() { return this._store; }
    run(store, fn, ...args) {
      const prev = this._store;
      this._store = store;
      try { return fn(...args); } finally { this._store = prev; }
    }
    enterWith(store) { this._store = store; }
    exit(fn, ...args) { return this.run(undefined, fn, ...args); }
    disable() { this._store = undefined; }
  }
  g.AsyncLocalStorage = AsyncLocalStorage;
  g.AsyncResource = class AsyncResource {
    runInAsyncScope(fn, thisArg, ...args) { return fn.apply(thisArg, args); }
  };
  g.crypto = {
    getRandomValues(arr) {
      if (!ArrayBuffer.isView(arr) || arr instanceof Float32Array || arr instanceof Float64Array) throw new TypeError("crypto.getRandomValues needs an integer typed array");
      if (arr.byteLength > 65536) throw new DOMException("The ArrayBufferView's byte length exceeds 65536", "QuotaExceededError");
      new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(randomBytes(arr.byteLength));
      return arr;
    },
    randomUUID() {
      const b = randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
    subtle,
  };
  g.performance = { now: () => (kind === "action" || kind === "http" ? realNow() : now()), timeOrigin: 0 };
  // Functions of a component instance (modules under _components/<a.b>/) see only their
  // instance's env: the platform vars and the vars its definition declares, as its parent
  // bound them; never the deployment's.
  const noEnv = Object.freeze({});
  let componentEnvs = {};
  let callEnv = null;
  const env = () => callEnv ?? envVars;
  g.process = { env: new Proxy({}, {
    get: (t, k) => (typeof k === "string" && Object.prototype.hasOwnProperty.call(env(), k) ? env()[k] : undefined),
    has: (t, k) => Object.prototype.hasOwnProperty.call(env(), k),
    ownKeys: () => Object.keys(env()),
    getOwnPropertyDescriptor: (t, k) => (Object.prototype.hasOwnProperty.call(env(), k) ? { value: env()[k], enumerable: true, configurable: true, writable: false } : undefined),
    set: () => true,
  }) };

  // ------------------------------------------------------------------ Convex syscalls
  const streams = new Map();
  // convex/server reads a query one document per async syscall; fetch them from Python in
  // growing batches instead. A batch is "<done 0|1>\n<doc JSON>\n<doc JSON>..." (JSON text
  // never contains a raw newline), so documents stay strings until convex/server parses them.
  function queryStreamNext(args) {
    const { queryId } = JSON.parse(args);
    let s = streams.get(queryId);
    if (s === undefined) { s = { buf: [], pos: 0, done: false, batch: 8 }; streams.set(queryId, s); }
    if (s.pos >= s.buf.length && !s.done) {
      const lines = call("strata/queryStreamNextBatch", JSON.stringify({ queryId, n: s.batch })).split("\n");
      s.done = lines[0] === "1";
      s.buf = lines;
      s.pos = 1;
      s.batch = Math.min(s.batch * 4, 512);
    }
    if (s.pos >= s.buf.length) return '{"value":null,"done":true}';
    return '{"done":false,"value":' + s.buf[s.pos++] + "}";
  }
  const ACTION_OPS = new Set(["1.0/actions/query", "1.0/actions/mutation", "1.0/actions/action"]);
  // In actions these touch blob stores and indexes, so they run off the isolate's thread;
  // queries and mutations serve them synchronously from their transaction.
  const HOST_OPS = new Set([
    "1.0/actions/vectorSearch", "1.0/storageGenerateUploadUrl", "1.0/storageGetUrl",
    "1.0/storageGetMetadata", "1.0/storageDelete", "1.0/storageStore", "1.0/storageGet",
  ]);
  function storeBlob(args) {
    const { blob, options } = args || {};
    if (!(blob instanceof Blob)) {
      return Promise.reject(new Error("store() expects a Blob. If you are trying to store a Request, `await request.blob()` will give you the correct input."));
    }
    const sha256 = options && options.sha256 !== undefined ? options.sha256 : null;
    return startOp("1.0/storageStore", JSON.stringify({ blob: bytesToB64(blob._bytes), contentType: blob.type || null, sha256 })).then(JSON.parse);
  }
  function getBlob(args) {
    const storageId = args ? args.storageId : undefined;
    return startOp("1.0/storageGet", JSON.stringify({ storageId })).then((text) => {
      const res = JSON.parse(text);
      return res === null ? null : new Blob([b64ToBytes(res.blob)], { type: res.contentType || "" });
    });
  }
  g.Convex = {
    syscall(op, args) {
      if (op === "1.0/queryCleanup") { try { streams.delete(JSON.parse(args).queryId); } catch (e) {} }
      return call(op, args);
    },
    asyncSyscall(op, args) {
      try {
        if (ACTION_OPS.has(op)) return startOp(op, args);
        if (HOST_OPS.has(op) && (kind === "action" || kind === "http")) return startOp(op, args);
        if (op === "1.0/queryStreamNext") return Promise.resolve(queryStreamNext(args));
        return Promise.resolve(call(op, args));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    jsSyscall(op, args) {
      if (op === "storage/storeBlob") return storeBlob(args);
      if (op === "storage/getBlob") return getBlob(args);
      throw new Error("Operation " + op + " is not supported yet by this runtime");
    },
  };

  // ------------------------------------------------------------------ entry points
  function modules() {
    const app = g.__strataApp;
    if (!app || !app.modules) throw new Error("No application code is loaded");
    return app.modules;
  }
  function findFunction(path) {
    let [mod, name] = path.split(":");
    name = name || "default";
    if (!/\.[cm]?js$/.test(mod)) mod += ".js";
    const m = modules()[mod];
    if (!m) throw new Error("Could not find module for: " + JSON.stringify(path));
    const f = m[name];
    if (!f) throw new Error("Could not find function for '" + path + "'. Did you forget to run `npx convex dev`?");
    return f;
  }
  function describeError(e) {
    if (e === null || typeof e !== "object") return { name: "Error", message: String(e), stack: "" };
    const out = { name: String(e.name || "Error"), message: String(e.message === undefined ? e : e.message), stack: String(e.stack || "") };
    if (Symbol.for("ConvexError") in e || e.name === "ConvexError") {
      out.convexErrorData = typeof e.data === "string" ? e.data : JSON.stringify(e.data === undefined ? null : e.data);
    } else if (e.data !== undefined) {
      try { out.convexErrorData = JSON.stringify(e.data); } catch (x) {}
    }
    return out;
  }
  let maxResult = Infinity;
  function finish(outcome) {
    if (outcome.ok && typeof outcome.result === "string" && outcome.result.length > maxResult) {
      outcome = { ok: false, error: { name: "Error", message: "Function return value is too large (" + outcome.result.length + " bytes, limit " + maxResult + ")", stack: "" } };
    }
    outcome.logLines = logLines;
    logLines = [];
    logCount = 0;
    const k = kind;
    kind = null;
    betweenCalls = true;
    frozenNow = null;
    activeTimers.clear();
    streams.clear();
    try {
      const text = JSON.stringify(outcome);
      if (text.length <= CAP) {
        // Left in the buffer: Python collects it when the task after this call completes,
        // sparing a callback. Larger outcomes travel in chunks through strata/done.
        for (let i = 0; i < text.length; i++) u16[i] = text.charCodeAt(i);
        hdr[0] = text.length;
        hdr[2] = 16;
      } else {
        call("strata/done", text);
      }
    } catch (e) {
      // The outcome could not be sent (too large or not serialisable): report that instead.
      call("strata/done", JSON.stringify({ ok: false, error: { name: "Error", message: String(e.message || e), stack: "" }, logLines: [] }));
    }
    return k;
  }
  async function runHttp(req, path, routedPath) {
    // A component instance's http.js (mounted under a prefix) routes the path left after it.
    const http = modules()[(path || "http.js:default").split(":")[0]];
    const router = http && http.default;
    if (!router || !router.isRouter) return new Response("This deployment has no HTTP actions (convex/http.js)", { status: 404 });
    const url = new URL(req.url);
    const request = new Request(url.href, { method: req.method, headers: req.headers, body: req.body === null ? null : b64ToBytes(req.body) });
    const routed = typeof routedPath === "string" ? routedPath : url.pathname;
    const match = router.lookup(routed, req.method);
    if (!match) return new Response("No HttpAction routed for " + routed, { status: 404 });
    const response = await match[0].invokeHttpAction(request);
    if (!(response instanceof Response)) throw new Error("HTTP action did not return a Response");
    return response;
  }
  async function serializeResponse(response) {
    const body = response._body;
    return JSON.stringify({ status: response.status, statusText: response.statusText, headers: [...response.headers], body: body === null ? null : bytesToB64(body) });
  }
  g.__strata = {
    loadingScope(instance) {
      // The bundle's top-level code of a component instance's modules runs after this.
      callEnv = instance ? componentEnvs[instance] ?? noEnv : null;
    },
    setEnv(env, components) {
      envVars = Object.freeze(Object.assign({}, env));
      componentEnvs = {};
      for (const [instance, vars] of Object.entries(components || {})) componentEnvs[instance] = Object.freeze(Object.assign({}, vars));
    },
    invoke() {
      betweenCalls = false;
      pending.clear();
      activeTimers.clear();
      streams.clear();
      const req = JSON.parse(takePreloadedRequest() ?? call("strata/request", ""));
      callEnv = null;
      if (typeof req.path === "string" && req.path.startsWith("_components/")) {
        const instance = req.path.slice("_components/".length).split("/")[0].replace(/\./g, "/");
        callEnv = componentEnvs[instance] ?? noEnv;
      }
      kind = req.kind;
      maxResult = req.maxResult || Infinity;
      logLines = [];
      logCount = 0;
      seed(req.seed);
      frozenNow = isDeterministic() ? req.now : null;
      let p;
      try {
        if (kind === "http") {
          p = runHttp(req.request, req.path, req.routedPath).then(serializeResponse);
        } else {
          const f = findFunction(req.path);
          if (kind === "query") {
            if (!f.isQuery) throw new Error("Trying to execute " + req.path + " as Query, but it is defined as " + describeKind(f) + ".");
            p = f.invokeQuery(req.args);
          } else if (kind === "mutation") {
            if (!f.isMutation) throw new Error("Trying to execute " + req.path + " as Mutation, but it is defined as " + describeKind(f) + ".");
            p = f.invokeMutation(req.args);
          } else if (kind === "action") {
            if (!f.isAction) throw new Error("Trying to execute " + req.path + " as Action, but it is defined as " + describeKind(f) + ".");
            p = f.invokeAction(req.requestId, req.args);
          } else throw new Error("Unknown function kind " + kind);
        }
      } catch (e) {
        finish({ ok: false, error: describeError(e) });
        return;
      }
      Promise.resolve(p).then(
        (r) => { finish({ ok: true, result: r === undefined ? "null" : r }); },
        (e) => { finish({ ok: false, error: describeError(e) }); },
      );
    },
    pump() {
      if (betweenCalls) return; // the call already finished
      const done = JSON.parse(call("strata/completions", ""));
      for (const [ticket, ok, payload] of done) {
        const p = pending.get(ticket);
        if (p === undefined) continue;
        pending.delete(ticket);
        if (ok) p.resolve(payload);
        else p.reject(hostError(payload));
      }
    },
    reset() {
      betweenCalls = true;
      pending.clear();
      activeTimers.clear();
      streams.clear();
      kind = null;
      frozenNow = null;
      logLines = [];
      logCount = 0;
    },
    analyze() {
      const functions = [];
      const mods = modules();
      for (const path of Object.keys(mods)) {
        const exports = mods[path];
        for (const name of Object.keys(exports)) {
          const f = exports[name];
          if (!f || (typeof f !== "function" && typeof f !== "object")) continue;
          if (!(f.isQuery || f.isMutation || f.isAction || f.isHttp)) continue;
          functions.push({
            module: path,
            name,
            kind: describeKind(f),
            visibility: f.isPublic ? "public" : "internal",
            args: typeof f.exportArgs === "function" ? f.exportArgs() : null,
            returns: typeof f.exportReturns === "function" ? f.exportReturns() : null,
          });
        }
      }
      let routes = [];
      const http = mods["http.js"] && mods["http.js"].default;
      if (http && http.isRouter) {
        routes = http.getRoutes().map(([path, method, handler]) => {
          let fn = null;
          for (const p of Object.keys(mods)) for (const n of Object.keys(mods[p])) if (mods[p][n] === handler) fn = p + ":" + n;
          return { path, method, function: fn };
        });
      }
      const cronMod = mods["crons.js"] && mods["crons.js"].default;
      const crons = cronMod && cronMod.isCrons ? JSON.stringify(cronMod.crons) : null;
      const schemaMod = mods["schema.js"] && mods["schema.js"].default;
      const schema = schemaMod && typeof schemaMod.export === "function" ? schemaMod.export() : null;
      const authMod = mods["auth.config.js"] && mods["auth.config.js"].default;
      const auth = authMod ? JSON.stringify(authMod) : null;
      const defMod = mods["convex.config.js"] && mods["convex.config.js"].default;
      const definition = defMod && typeof defMod.export === "function" ? JSON.stringify(defMod.export()) : null;
      return JSON.stringify({ functions, routes, crons, schema, auth, definition });
    },
  };
  function describeKind(f) {
    return f.isQuery ? "query" : f.isMutation ? "mutation" : f.isAction ? "action" : f.isHttp ? "httpAction" : "unknown";
  }
  // User code shares this global object: make the host's entry points tamper-proof.
  for (const name of ["Convex", "__strata"]) {
    Object.freeze(g[name]);
    Object.defineProperty(g, name, { value: g[name], writable: false, configurable: false, enumerable: false });
  }
})();
