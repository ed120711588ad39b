// crypto.subtle exercised from deployed functions. Bytes travel as hex strings; key data in
// JWK form travels as objects. The tests (tests/runtime/test_webcrypto.py) feed RFC / NIST
// vectors and check results against Python's `cryptography`.
import { SignJWT, importPKCS8 } from "jose";
import { v } from "convex/values";
import { action, mutation, query } from "./_generated/server";

const hex = (b: ArrayBuffer | Uint8Array): string =>
  Array.from(b instanceof Uint8Array ? b : new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h: string): Uint8Array => {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
};
// Algorithm parameters from the tests: "hex:..." members become bytes, and bytes in results
// become "hex:..." (Convex values have no Uint8Array).
const params = (a: any): any => {
  if (typeof a === "string" && a.startsWith("hex:")) return bytes(a.slice(4));
  if (typeof a !== "object" || a === null) return a;
  const out: any = Array.isArray(a) ? [] : {};
  for (const k of Object.keys(a)) out[k] = params(a[k]);
  return out;
};
const plain = (a: any): any => {
  if (a instanceof Uint8Array) return "hex:" + hex(a);
  if (typeof a !== "object" || a === null) return a;
  const out: any = Array.isArray(a) ? [] : {};
  for (const k of Object.keys(a)) out[k] = plain(a[k]);
  return out;
};
const keyData = (format: string, data: any) => (format === "jwk" ? data : bytes(data));
async function errorName(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
    return "no error";
  } catch (e: any) {
    return `${e.name}${e instanceof Error ? "" : " (not an Error)"}`;
  }
}

export const digest = query({
  args: { algorithm: v.string(), data: v.string() },
  handler: async (_, { algorithm, data }) => hex(await crypto.subtle.digest(algorithm, bytes(data))),
});

export const hmac = action({
  args: { hash: v.string(), key: v.string(), data: v.string() },
  handler: async (_, { hash, key, data }) => {
    const k = await crypto.subtle.importKey("raw", bytes(key), { name: "HMAC", hash }, true, ["sign", "verify"]);
    const sig = await crypto.subtle.sign("HMAC", k, bytes(data));
    const tampered = new Uint8Array(sig).slice();
    tampered[0] ^= 1;
    return {
      sig: hex(sig),
      verified: await crypto.subtle.verify("HMAC", k, sig, bytes(data)),
      verifiedTampered: await crypto.subtle.verify("HMAC", k, tampered, bytes(data)),
      algorithm: plain(k.algorithm),
      jwk: await crypto.subtle.exportKey("jwk", k),
    };
  },
});

// PBKDF2 as password hashing libraries use it; in a mutation (the host calls are synchronous).
export const pbkdf2 = mutation({
  args: { hash: v.string(), password: v.string(), salt: v.string(), iterations: v.number(), bits: v.number() },
  handler: async (_, { hash, password, salt, iterations, bits }) => {
    const base = await crypto.subtle.importKey("raw", bytes(password), "PBKDF2", false, ["deriveBits", "deriveKey"]);
    const algorithm = { name: "PBKDF2", hash, salt: bytes(salt), iterations };
    const derived = await crypto.subtle.deriveBits(algorithm, base, bits);
    const aes = await crypto.subtle.deriveKey(algorithm, base, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
    return {
      bits: hex(derived),
      aesKey: hex(await crypto.subtle.exportKey("raw", aes)),
      aesAlgorithm: aes.algorithm,
      baseType: base.type,
      baseExtractable: base.extractable,
      baseUsages: base.usages,
    };
  },
});

export const hkdf = action({
  args: { hash: v.string(), ikm: v.string(), salt: v.string(), info: v.string(), bits: v.number() },
  handler: async (_, { hash, ikm, salt, info, bits }) => {
    const base = await crypto.subtle.importKey("raw", bytes(ikm), "HKDF", false, ["deriveBits"]);
    return hex(await crypto.subtle.deriveBits({ name: "HKDF", hash, salt: bytes(salt), info: bytes(info) }, base, bits));
  },
});

// Symmetric encryption: encrypt with the given parameters, decrypt back, and decrypt a tampered
// ciphertext (its error name, or "no error").
export const cipher = action({
  args: { algorithm: v.any(), key: v.string(), plaintext: v.string() },
  handler: async (_, { algorithm, key, plaintext }) => {
    const alg = params(algorithm);
    const k = await crypto.subtle.importKey("raw", bytes(key), alg.name, true, ["encrypt", "decrypt"]);
    const ct = await crypto.subtle.encrypt(alg, k, bytes(plaintext));
    const back = await crypto.subtle.decrypt(alg, k, ct);
    const tampered = new Uint8Array(ct).slice();
    tampered[tampered.length - 1] ^= 1;
    return {
      ciphertext: hex(ct),
      decrypted: hex(back),
      tamperedError: await errorName(() => crypto.subtle.decrypt(alg, k, tampered)),
    };
  },
});

export const decrypt = action({
  args: { format: v.string(), keyData: v.any(), algorithm: v.any(), usage: v.string(), ciphertext: v.string() },
  handler: async (_, { format, keyData: data, algorithm, ciphertext }) => {
    const alg = params(algorithm);
    const k = await crypto.subtle.importKey(format, keyData(format, data), alg, false, ["decrypt"]);
    return hex(await crypto.subtle.decrypt(alg, k, bytes(ciphertext)));
  },
});

export const encrypt = action({
  args: { format: v.string(), keyData: v.any(), algorithm: v.any(), plaintext: v.string() },
  handler: async (_, { format, keyData: data, algorithm, plaintext }) => {
    const alg = params(algorithm);
    const k = await crypto.subtle.importKey(format, keyData(format, data), alg, false, ["encrypt"]);
    return hex(await crypto.subtle.encrypt(alg, k, bytes(plaintext)));
  },
});

export const sign = action({
  args: { format: v.string(), keyData: v.any(), algorithm: v.any(), signAlgorithm: v.any(), data: v.string() },
  handler: async (_, { format, keyData: data, algorithm, signAlgorithm, data: message }) => {
    const k = await crypto.subtle.importKey(format, keyData(format, data), params(algorithm), true, ["sign"]);
    return {
      signature: hex(await crypto.subtle.sign(params(signAlgorithm), k, bytes(message))),
      type: k.type,
      algorithm: plain(k.algorithm),
      usages: k.usages,
      extractable: k.extractable,
    };
  },
});

export const verify = action({
  args: { format: v.string(), keyData: v.any(), algorithm: v.any(), signAlgorithm: v.any(), data: v.string(), signature: v.string() },
  handler: async (_, { format, keyData: data, algorithm, signAlgorithm, data: message, signature }) => {
    const k = await crypto.subtle.importKey(format, keyData(format, data), params(algorithm), true, ["verify"]);
    return await crypto.subtle.verify(params(signAlgorithm), k, bytes(signature), bytes(message));
  },
});

// Generate a key pair in V8, sign, verify, and export the public key for the host to check.
export const generateAndSign = action({
  args: { algorithm: v.any(), signAlgorithm: v.any(), data: v.string() },
  handler: async (_, { algorithm, signAlgorithm, data }) => {
    const pair = (await crypto.subtle.generateKey(params(algorithm), true, ["sign", "verify"])) as CryptoKeyPair;
    const sig = await crypto.subtle.sign(params(signAlgorithm), pair.privateKey, bytes(data));
    const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const reimported = await crypto.subtle.importKey("jwk", jwk, params(algorithm), false, ["sign"]);
    const sig2 = await crypto.subtle.sign(params(signAlgorithm), reimported, bytes(data));
    return {
      signature: hex(sig),
      verified: await crypto.subtle.verify(params(signAlgorithm), pair.publicKey, sig, bytes(data)),
      verifiedReimported: await crypto.subtle.verify(params(signAlgorithm), pair.publicKey, sig2, bytes(data)),
      spki: hex(await crypto.subtle.exportKey("spki", pair.publicKey)),
      pkcs8: hex(await crypto.subtle.exportKey("pkcs8", pair.privateKey)),
      privateKey: { type: pair.privateKey.type, extractable: pair.privateKey.extractable, usages: pair.privateKey.usages, algorithm: plain(pair.privateKey.algorithm) },
      publicKey: { type: pair.publicKey.type, extractable: pair.publicKey.extractable, usages: pair.publicKey.usages, algorithm: plain(pair.publicKey.algorithm) },
      jwkKty: jwk.kty,
      jwkOps: jwk.key_ops,
    };
  },
});

// ECDH / X25519 with the host's key pair: derive with our private key and the peer's public key.
export const agree = action({
  args: { algorithm: v.any(), privatePkcs8: v.string(), peerSpki: v.string(), bits: v.union(v.number(), v.null()) },
  handler: async (_, { algorithm, privatePkcs8, peerSpki, bits }) => {
    const alg = params(algorithm);
    const priv = await crypto.subtle.importKey("pkcs8", bytes(privatePkcs8), alg, false, ["deriveBits", "deriveKey"]);
    const peer = await crypto.subtle.importKey("spki", bytes(peerSpki), alg, true, []);
    const shared = await crypto.subtle.deriveBits({ name: alg.name, public: peer }, priv, bits);
    const key = await crypto.subtle.deriveKey({ name: alg.name, public: peer }, priv, { name: "HMAC", hash: "SHA-256", length: 128 }, true, ["sign"]);
    return { shared: hex(shared), hmacKey: hex(await crypto.subtle.exportKey("raw", key)), peerRaw: alg.name === "ECDH" || alg.name === "X25519" ? hex(await crypto.subtle.exportKey("raw", peer)) : null };
  },
});

export const wrap = action({
  args: { kek: v.string(), keyData: v.string() },
  handler: async (_, { kek, keyData: data }) => {
    const wrapping = await crypto.subtle.importKey("raw", bytes(kek), "AES-KW", false, ["wrapKey", "unwrapKey"]);
    const key = await crypto.subtle.importKey("raw", bytes(data), "AES-GCM", true, ["encrypt"]);
    const wrapped = await crypto.subtle.wrapKey("raw", key, wrapping, "AES-KW");
    const unwrapped = await crypto.subtle.unwrapKey("raw", wrapped, wrapping, "AES-KW", "AES-GCM", true, ["decrypt"]);
    const gcm = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"]);
    const iv = new Uint8Array(12);
    const jwkWrapped = await crypto.subtle.wrapKey("jwk", key, gcm, { name: "AES-GCM", iv });
    const back = await crypto.subtle.unwrapKey("jwk", jwkWrapped, gcm, { name: "AES-GCM", iv }, { name: "AES-GCM" }, true, ["encrypt"]);
    return {
      wrapped: hex(wrapped),
      unwrapped: hex(await crypto.subtle.exportKey("raw", unwrapped)),
      unwrappedUsages: unwrapped.usages,
      jwkRoundTrip: hex(await crypto.subtle.exportKey("raw", back)),
    };
  },
});

// What a JWT library does with a PEM private key (Convex Auth signs its tokens this way).
export const signJwt = action({
  args: { pem: v.string(), subject: v.string() },
  handler: async (_, { pem, subject }) => {
    const key = await importPKCS8(pem, "RS256");
    return await new SignJWT({ sub: subject }).setProtectedHeader({ alg: "RS256", kid: "k1" }).setIssuedAt().setIssuer("https://issuer.example").setAudience("convex").setExpirationTime("1h").sign(key);
  },
});

// Misuse: the error each case raises, by name.
export const errors = action({
  args: {},
  handler: async () => {
    const s = crypto.subtle;
    const hmacKey = await s.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const aes = await s.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["encrypt"]);
    const ec = (await s.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const pbkdf2 = await s.importKey("raw", new Uint8Array(8), "PBKDF2", false, ["deriveBits"]);
    const data = new Uint8Array(4);
    return {
      unknownAlgorithm: await errorName(() => s.importKey("raw", new Uint8Array(16), "AES-XYZ", true, ["encrypt"])),
      unknownDigest: await errorName(() => s.digest("MD5", data)),
      wrongUsageForAlgorithm: await errorName(() => s.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["sign"])),
      emptyUsages: await errorName(() => s.importKey("raw", new Uint8Array(16), "AES-GCM", true, [])),
      badAesLength: await errorName(() => s.importKey("raw", new Uint8Array(15), "AES-GCM", true, ["encrypt"])),
      badPkcs8: await errorName(() => s.importKey("pkcs8", new Uint8Array(10), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"])),
      rawRsa: await errorName(() => s.importKey("raw", new Uint8Array(10), { name: "RSA-PSS", hash: "SHA-256" }, true, ["verify"])),
      extractablePbkdf2: await errorName(() => s.importKey("raw", new Uint8Array(8), "PBKDF2", true, ["deriveBits"])),
      notExtractable: await errorName(() => s.exportKey("raw", hmacKey)),
      signWithoutUsage: await errorName(() => s.sign("HMAC", (aes as unknown) as CryptoKey, data)),
      verifyWithSignOnlyKey: await errorName(() => s.verify("HMAC", hmacKey, data, data)),
      decryptWithEncryptOnlyKey: await errorName(() => s.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, aes, data)),
      algorithmMismatch: await errorName(() => s.sign({ name: "RSASSA-PKCS1-v1_5" }, ec.privateKey, data)),
      signWithPublicKey: await errorName(() => s.sign({ name: "ECDSA", hash: "SHA-256" }, ec.publicKey, data)),
      pkcs8OfPublicKey: await errorName(() => s.exportKey("pkcs8", ec.publicKey)),
      pbkdf2WithoutLength: await errorName(() => s.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: data, iterations: 1 }, pbkdf2, null as any)),
      generateAes100: await errorName(() => s.generateKey({ name: "AES-GCM", length: 100 }, true, ["encrypt"])),
      notAKey: await errorName(() => s.sign("HMAC", {} as CryptoKey, data)),
      notBytes: await errorName(() => s.digest("SHA-256", "text" as any)),
      constructKey: await errorName(async () => new (CryptoKey as any)()),
      publicKeyExtractable: ec.publicKey.extractable,
      isCryptoKey: ec.privateKey instanceof CryptoKey && Object.prototype.toString.call(ec.privateKey) === "[object CryptoKey]",
      randomUuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
      randomValues: crypto.getRandomValues(new Uint8Array(16)).length,
    };
  },
});

// Keys generated in V8 for the other algorithm families, used and round-tripped through JWK.
export const generatedRoundTrips = action({
  args: {},
  handler: async () => {
    const s = crypto.subtle;
    const enc = new TextEncoder().encode("round trip");
    const text = (b: ArrayBuffer) => new TextDecoder().decode(b);

    const oaep = (await s.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["encrypt", "decrypt"])) as CryptoKeyPair;
    const oaepCt = await s.encrypt({ name: "RSA-OAEP" }, oaep.publicKey, enc);

    const alg = { name: "ECDH", namedCurve: "P-384" };
    const a = (await s.generateKey(alg, true, ["deriveBits"])) as CryptoKeyPair;
    const b = (await s.generateKey(alg, true, ["deriveBits"])) as CryptoKeyPair;
    const ab = hex(await s.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, 384));
    const ba = hex(await s.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, 384));
    const bJwk = await s.exportKey("jwk", b.publicKey);
    const bAgain = await s.importKey("jwk", bJwk, alg, true, []);
    const abAgain = hex(await s.deriveBits({ name: "ECDH", public: bAgain }, a.privateKey, 384));

    const mac = await s.generateKey({ name: "HMAC", hash: "SHA-512" }, true, ["sign", "verify"]);
    const macJwk = await s.exportKey("jwk", mac);
    const macAgain = await s.importKey("jwk", macJwk, { name: "HMAC", hash: "SHA-512" }, false, ["verify"]);
    const tag = await s.sign("HMAC", mac, enc);

    const aes = await s.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    const aesJwk = await s.exportKey("jwk", aes);
    const aesAgain = await s.importKey("jwk", aesJwk, "AES-GCM", false, ["decrypt"]);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const aesCt = await s.encrypt({ name: "AES-GCM", iv }, aes, enc);

    return {
      oaep: text(await s.decrypt({ name: "RSA-OAEP" }, oaep.privateKey, oaepCt)),
      oaepUsages: [oaep.publicKey.usages, oaep.privateKey.usages],
      ecdhAgree: ab === ba && ab === abAgain && ab.length === 96,
      ecdhPublicUsages: a.publicKey.usages,
      ecdhJwk: [bJwk.kty, bJwk.crv, typeof bJwk.x, "d" in bJwk],
      hmacLength: (mac.algorithm as any).length,
      hmacJwkAlg: macJwk.alg,
      hmacVerifies: await s.verify("HMAC", macAgain, tag, enc),
      aesJwkAlg: aesJwk.alg,
      aes: text(await s.decrypt({ name: "AES-GCM", iv }, aesAgain, aesCt)),
      jwkExtMismatch: await errorName(() => s.importKey("jwk", { ...aesJwk, ext: false }, "AES-GCM", true, ["decrypt"])),
      jwkOpsMismatch: await errorName(() => s.importKey("jwk", { ...aesJwk, key_ops: ["encrypt"] }, "AES-GCM", false, ["decrypt"])),
    };
  },
});
