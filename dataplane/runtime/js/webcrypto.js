// Web Crypto (crypto.subtle and CryptoKey) for the Strata runtime, evaluated before runtime.js.
// It defines __strataWebCrypto, which runtime.js takes (and deletes) to build crypto.subtle with
// its host channel. The primitives run on the host (dataplane/runtime/webcrypto.py): each
// operation is one synchronous `strata/crypto/<op>` call; key material stays in a WeakMap here,
// out of user code's reach, and lives only as long as its CryptoKey in this isolate.
(function () {
  "use strict";
  const g = globalThis;
  g.__strataWebCrypto = function makeWebCrypto(host) {
    const { call, toBytes, bytesToB64, b64ToBytes, DOMException } = host;
    const records = new WeakMap(); // CryptoKey -> the host's key record
    const ILLEGAL = Symbol("internal");

    function fromWire(v) {
      if (Array.isArray(v)) return v.map(fromWire);
      if (v !== null && typeof v === "object") {
        if (typeof v.$bytes === "string" && Object.keys(v).length === 1) return b64ToBytes(v.$bytes);
        const out = {};
        for (const k of Object.keys(v)) out[k] = fromWire(v[k]);
        return out;
      }
      return v;
    }
    function toWire(v, depth) {
      if (v instanceof CryptoKey) return records.get(v);
      if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return { $bytes: bytesToB64(toBytes(v)) };
      if (typeof v === "bigint") return Number(v);
      if (Array.isArray(v)) return v.map((x) => toWire(x, depth + 1));
      if (v !== null && typeof v === "object") {
        if (depth > 8) throw new TypeError("Algorithm parameters are nested too deeply");
        const out = {};
        for (const k in v) {
          const x = v[k];
          if (x !== undefined && typeof x !== "function") out[k] = toWire(x, depth + 1);
        }
        return out;
      }
      return v;
    }
    function algorithmArg(a) {
      if (typeof a === "string") return { name: a };
      if (a === null || typeof a !== "object") throw new TypeError("Algorithm must be a string or an object with a name");
      return toWire(a, 0);
    }
    function bufferArg(v, what) {
      if (!(v instanceof ArrayBuffer || ArrayBuffer.isView(v))) throw new TypeError("Failed to execute '" + what + "' on 'SubtleCrypto': the data is not an ArrayBuffer or ArrayBufferView");
      return { $bytes: bytesToB64(toBytes(v)) };
    }
    function keyArg(k, what, method) {
      if (!(k instanceof CryptoKey)) throw new TypeError("Failed to execute '" + method + "' on 'SubtleCrypto': parameter " + what + " is not of type 'CryptoKey'.");
      return records.get(k);
    }
    function host_(op, args) {
      const reply = JSON.parse(call("strata/crypto/" + op, JSON.stringify(args)));
      if (reply !== null && typeof reply === "object" && typeof reply.$error === "string") {
        if (reply.$error === "TypeError") throw new TypeError(reply.message);
        throw new DOMException(reply.message, reply.$error);
      }
      return reply;
    }
    function bufferResult(r) {
      const b = b64ToBytes(r.$bytes);
      return b.buffer.byteLength === b.length ? b.buffer : b.slice().buffer;
    }
    function wrapKey(record) {
      const key = new CryptoKey(ILLEGAL, record);
      return key;
    }
    function keyResult(r) {
      if (r.privateKey !== undefined) return { publicKey: wrapKey(r.publicKey), privateKey: wrapKey(r.privateKey) };
      return wrapKey(r);
    }
    // Every operation settles asynchronously, as in browsers: argument errors reject the promise.
    function op(fn) {
      return function (...args) {
        try {
          return Promise.resolve(fn(...args));
        } catch (e) {
          return Promise.reject(e);
        }
      };
    }

    class CryptoKey {
      constructor(token, record) {
        if (token !== ILLEGAL) throw new TypeError("Illegal constructor");
        records.set(this, record);
        Object.defineProperty(this, "_algorithm", { value: Object.freeze(fromWire(record.algorithm)) });
        Object.defineProperty(this, "_usages", { value: Object.freeze(record.usages.slice()) });
      }
      get type() { return records.get(this).type; }
      get extractable() { return records.get(this).extractable; }
      get algorithm() { return this._algorithm; }
      get usages() { return this._usages; }
      get [Symbol.toStringTag]() { return "CryptoKey"; }
    }

    const subtle = {
      digest: op((algorithm, data) => bufferResult(host_("digest", { algorithm: algorithmArg(algorithm), data: bufferArg(data, "digest") }))),
      importKey: op((format, keyData, algorithm, extractable, usages) => {
        let data;
        if (format === "jwk") {
          if (keyData === null || typeof keyData !== "object" || ArrayBuffer.isView(keyData) || keyData instanceof ArrayBuffer) throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': keyData must be a JsonWebKey for the jwk format");
          data = toWire(keyData, 0);
        } else data = bufferArg(keyData, "importKey");
        return keyResult(host_("importKey", { format, keyData: data, algorithm: algorithmArg(algorithm), extractable: !!extractable, usages: Array.from(usages || []) }));
      }),
      exportKey: op((format, key) => {
        const r = host_("exportKey", { format, key: keyArg(key, 2, "exportKey") });
        return format === "jwk" ? r : bufferResult(r);
      }),
      generateKey: op((algorithm, extractable, usages) => keyResult(host_("generateKey", { algorithm: algorithmArg(algorithm), extractable: !!extractable, usages: Array.from(usages || []) }))),
      sign: op((algorithm, key, data) => bufferResult(host_("sign", { algorithm: algorithmArg(algorithm), key: keyArg(key, 2, "sign"), data: bufferArg(data, "sign") }))),
      verify: op((algorithm, key, signature, data) => host_("verify", { algorithm: algorithmArg(algorithm), key: keyArg(key, 2, "verify"), signature: bufferArg(signature, "verify"), data: bufferArg(data, "verify") })),
      encrypt: op((algorithm, key, data) => bufferResult(host_("encrypt", { algorithm: algorithmArg(algorithm), key: keyArg(key, 2, "encrypt"), data: bufferArg(data, "encrypt") }))),
      decrypt: op((algorithm, key, data) => bufferResult(host_("decrypt", { algorithm: algorithmArg(algorithm), key: keyArg(key, 2, "decrypt"), data: bufferArg(data, "decrypt") }))),
      deriveBits: op((algorithm, baseKey, length) => bufferResult(host_("deriveBits", { algorithm: algorithmArg(algorithm), baseKey: keyArg(baseKey, 2, "deriveBits"), length: length === undefined ? null : length }))),
      deriveKey: op((algorithm, baseKey, derivedKeyType, extractable, usages) => keyResult(host_("deriveKey", { algorithm: algorithmArg(algorithm), baseKey: keyArg(baseKey, 2, "deriveKey"), derivedKeyType: algorithmArg(derivedKeyType), extractable: !!extractable, usages: Array.from(usages || []) }))),
      wrapKey: op((format, key, wrappingKey, wrapAlgorithm) => bufferResult(host_("wrapKey", { format, key: keyArg(key, 2, "wrapKey"), wrappingKey: keyArg(wrappingKey, 3, "wrapKey"), wrapAlgorithm: algorithmArg(wrapAlgorithm) }))),
      unwrapKey: op((format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, usages) => keyResult(host_("unwrapKey", { format, wrappedKey: bufferArg(wrappedKey, "unwrapKey"), unwrappingKey: keyArg(unwrappingKey, 3, "unwrapKey"), unwrapAlgorithm: algorithmArg(unwrapAlgorithm), unwrappedKeyAlgorithm: algorithmArg(unwrappedKeyAlgorithm), extractable: !!extractable, usages: Array.from(usages || []) }))),
    };
    class SubtleCrypto {
      constructor() { throw new TypeError("Illegal constructor"); }
    }
    Object.setPrototypeOf(subtle, SubtleCrypto.prototype);
    for (const name of Object.keys(subtle)) Object.defineProperty(subtle[name], "name", { value: name });
    return { subtle: Object.freeze(subtle), CryptoKey, SubtleCrypto };
  };
})();
