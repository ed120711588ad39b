"""Web Crypto (`crypto.subtle`) for the V8 runtime: the primitives, served as host calls.

runtime.js (through js/webcrypto.js) sends `strata/crypto/<operation>` with a JSON request; the
reply is JSON: a key record, `{"$bytes": base64}`, a JWK object, a boolean, or
`{"$error": <DOMException name>, "message": ...}` which JS throws as that DOMException (or a
TypeError). Key records are `{type, algorithm, extractable, usages, material}`, `material` being
base64 of the raw secret, a PKCS#8 private key or an SPKI public key. JS keeps each record out
of user code's reach; nothing is kept here between calls, so no key outlives its isolate or is
seen by another deployment.

The behaviour follows the W3C Web Cryptography API (algorithm normalisation, usages, formats
and the errors each step raises) for the algorithms Convex's runtime offers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Any, NoReturn, cast

import orjson
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, keywrap, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "strata/crypto/"

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-1": hashes.SHA1,
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
}
_HASHLIB = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_BLOCK_BITS = {"SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024}
_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_CURVE_BYTES = {"P-256": 32, "P-384": 48, "P-521": 66}

_RSA = ("RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP")
_EC = ("ECDSA", "ECDH")
_OKP = ("Ed25519", "X25519")
_AES = ("AES-GCM", "AES-CBC", "AES-CTR", "AES-KW")
_KDF = ("PBKDF2", "HKDF")
_NAMES = {n.upper(): n for n in (*_RSA, *_EC, *_OKP, *_AES, *_KDF, "HMAC", *_HASHES)}

# Usages a key of each (algorithm, type) may carry.
_SIGN = {"private": {"sign"}, "public": {"verify"}}
_USAGES: dict[str, dict[str, set[str]]] = {
    "HMAC": {"secret": {"sign", "verify"}},
    "RSASSA-PKCS1-v1_5": _SIGN,
    "RSA-PSS": _SIGN,
    "ECDSA": _SIGN,
    "Ed25519": _SIGN,
    "RSA-OAEP": {"private": {"decrypt", "unwrapKey"}, "public": {"encrypt", "wrapKey"}},
    "ECDH": {"private": {"deriveBits", "deriveKey"}, "public": set()},
    "X25519": {"private": {"deriveBits", "deriveKey"}, "public": set()},
    "AES-GCM": {"secret": {"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
    "AES-CBC": {"secret": {"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
    "AES-CTR": {"secret": {"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
    "AES-KW": {"secret": {"wrapKey", "unwrapKey"}},
    "PBKDF2": {"secret": {"deriveBits", "deriveKey"}},
    "HKDF": {"secret": {"deriveBits", "deriveKey"}},
}
_ALL_USAGES = {"encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey"}
_ALL_USAGES |= {"unwrapKey"}

_JWK_RSA_ALG = {
    "RSASSA-PKCS1-v1_5": {f"SHA-{n}": f"RS{n}" for n in (1, 256, 384, 512)},
    "RSA-PSS": {f"SHA-{n}": f"PS{n}" for n in (1, 256, 384, 512)},
    "RSA-OAEP": {
        "SHA-1": "RSA-OAEP",
        "SHA-256": "RSA-OAEP-256",
        "SHA-384": "RSA-OAEP-384",
        "SHA-512": "RSA-OAEP-512",
    },
}
_JWK_HMAC_ALG = {"SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512"}
_JWK_AES_SUFFIX = {"AES-GCM": "GCM", "AES-CBC": "CBC", "AES-CTR": "CTR", "AES-KW": "KW"}

Key = dict[str, Any]
PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | x25519.X25519PrivateKey
)
PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | x25519.X25519PublicKey
)


class WebCryptoError(Exception):
    """Thrown into JS as a DOMException with this name (or a TypeError)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _fail(name: str, message: str) -> NoReturn:
    raise WebCryptoError(name, message)


def serve(op: str, raw_args: str) -> str:
    """Answer one `strata/crypto/<operation>` host call (see the module docstring)."""
    handler = _OPERATIONS.get(op.removeprefix(PREFIX))
    try:
        if handler is None:
            _fail("NotSupportedError", f"Unknown crypto operation {op!r}")
        args = orjson.loads(raw_args)
        if not isinstance(args, dict):
            _fail("TypeError", "Invalid crypto request")
        result = handler(args)
    except WebCryptoError as e:
        result = {"$error": e.name, "message": e.message}
    return orjson.dumps(result).decode()


# ---------------------------------------------------------------- argument helpers
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bytes_out(data: bytes) -> dict[str, str]:
    return {"$bytes": _b64(data)}


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, dict) and isinstance(value.get("$bytes"), str):
        return base64.b64decode(value["$bytes"])
    _fail("TypeError", f"{what} must be an ArrayBuffer or ArrayBufferView")


def _opt_bytes(value: Any, what: str) -> bytes | None:
    return None if value is None else _bytes(value, what)


def _b64url_decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        _fail("DataError", f"JWK member {what!r} is missing or not a string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        _fail("DataError", f"JWK member {what!r} is not valid base64url")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_bytes(n: int, size: int | None = None) -> bytes:
    return n.to_bytes(size if size is not None else max(1, (n.bit_length() + 7) // 8), "big")


def _name(algorithm: Any) -> str:
    if isinstance(algorithm, str):
        algorithm = {"name": algorithm}
    if not isinstance(algorithm, dict) or not isinstance(algorithm.get("name"), str):
        _fail("TypeError", "Algorithm: name is required")
    name = _NAMES.get(algorithm["name"].upper())
    if name is None:
        _fail("NotSupportedError", f"Unrecognized algorithm name: {algorithm['name']}")
    return name


def _hash(value: Any, what: str = "hash") -> str:
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str):
        _fail("TypeError", f"Algorithm: {what} is required")
    name = _NAMES.get(value.upper())
    if name not in _HASHES:
        _fail("NotSupportedError", f"Unrecognized hash algorithm: {value}")
    return name


def _hash_alg(name: str) -> hashes.HashAlgorithm:
    return _HASHES[name]()


def _usages(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        _fail("TypeError", "keyUsages must be a sequence of strings")
    for u in value:
        if u not in _ALL_USAGES:
            _fail("TypeError", f"Invalid key usage: {u}")
    return list(dict.fromkeys(value))


def _check_usages(name: str, kind: str, usages: list[str]) -> None:
    allowed = _USAGES[name].get(kind, set())
    bad = [u for u in usages if u not in allowed]
    if bad:
        _fail("SyntaxError", f"Unsupported key usage for a {name} {kind} key: {bad[0]}")


def _key(value: Any, what: str = "key") -> Key:
    if not isinstance(value, dict) or "material" not in value:
        _fail("TypeError", f"{what} is not a CryptoKey")
    return value


def _key_hash(key: Key) -> str:
    return _hash(key["algorithm"].get("hash"))


def _check_key(key: Key, name: str, usage: str) -> None:
    if key["algorithm"]["name"] != name:
        _fail("InvalidAccessError", f"The key is a {key['algorithm']['name']} key, not {name}")
    if usage not in key["usages"]:
        _fail("InvalidAccessError", f"The key does not support the '{usage}' operation")


def _secret(key: Key) -> bytes:
    return base64.b64decode(key["material"])


def _private(key: Key) -> PrivateKey:
    if key["type"] != "private":
        _fail("InvalidAccessError", "A private key is required")
    loaded = serialization.load_der_private_key(base64.b64decode(key["material"]), None)
    assert isinstance(
        loaded,
        rsa.RSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey,
    )
    return loaded


def _public(key: Key) -> PublicKey:
    if key["type"] != "public":
        _fail("InvalidAccessError", "A public key is required")
    loaded = serialization.load_der_public_key(base64.b64decode(key["material"]))
    assert isinstance(
        loaded,
        rsa.RSAPublicKey
        | ec.EllipticCurvePublicKey
        | ed25519.Ed25519PublicKey
        | x25519.X25519PublicKey,
    )
    return loaded


def _record(
    kind: str, algorithm: dict[str, Any], material: bytes, extractable: bool, usages: list[str]
) -> Key:
    return {
        "type": kind,
        "algorithm": algorithm,
        "extractable": extractable,
        "usages": usages,
        "material": _b64(material),
    }


def _private_record(
    k: PrivateKey, algorithm: dict[str, Any], extractable: bool, usages: list[str]
) -> Key:
    der = k.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _record("private", algorithm, der, extractable, usages)


def _public_record(
    k: PublicKey, algorithm: dict[str, Any], extractable: bool, usages: list[str]
) -> Key:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = k.public_bytes(serialization.Encoding.DER, spki)
    return _record("public", algorithm, der, extractable, usages)


# ---------------------------------------------------------------- key algorithms
def _rsa_algorithm(name: str, key: rsa.RSAPrivateKey | rsa.RSAPublicKey, hash_name: str) -> Key:
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    e = pub.public_numbers().e
    return {
        "name": name,
        "modulusLength": pub.key_size,
        "publicExponent": _bytes_out(_int_bytes(e)),
        "hash": {"name": hash_name},
    }


def _named_curve(algorithm: dict[str, Any]) -> str:
    curve = algorithm.get("namedCurve")
    if not isinstance(curve, str):
        _fail("TypeError", "Algorithm: namedCurve is required")
    if curve not in _CURVES:
        _fail("NotSupportedError", f"Unsupported named curve: {curve}")
    return curve


def _curve_name(curve: ec.EllipticCurve) -> str | None:
    for name, c in _CURVES.items():
        if c.name == curve.name:
            return name
    return None


def _aes_length(length: Any, error: str) -> int:
    if length not in (128, 192, 256):
        _fail(error, "AES key length must be 128, 192 or 256 bits")
    return int(length)


# ---------------------------------------------------------------- importKey
def _import_key(a: dict[str, Any]) -> Key:
    fmt = a.get("format")
    algorithm = a.get("algorithm")
    name = _name(algorithm)
    assert isinstance(algorithm, dict | str)
    alg: dict[str, Any] = algorithm if isinstance(algorithm, dict) else {"name": algorithm}
    extractable = bool(a.get("extractable"))
    usages = _usages(a.get("usages"))
    if name in _HASHES:
        _fail("NotSupportedError", f"{name} is not a key algorithm")
    if fmt not in ("raw", "pkcs8", "spki", "jwk"):
        _fail("TypeError", f"Invalid key format: {fmt}")
    data = a.get("keyData")
    if fmt == "jwk":
        if not isinstance(data, dict):
            _fail("TypeError", "keyData must be a JsonWebKey object for the jwk format")
        key = _import_jwk(name, alg, data, extractable, usages)
    else:
        key = _import_bytes(name, alg, fmt, _bytes(data, "keyData"), extractable, usages)
    if key["type"] in ("secret", "private") and not key["usages"]:
        _fail("SyntaxError", "Usages cannot be empty when creating a key.")
    return key


def _import_bytes(
    name: str, alg: dict[str, Any], fmt: str, data: bytes, extractable: bool, usages: list[str]
) -> Key:
    if name in _KDF:
        if fmt != "raw":
            _fail("NotSupportedError", f"{name} keys can only be imported in the raw format")
        if extractable:
            _fail("SyntaxError", f"{name} keys cannot be extractable")
        _check_usages(name, "secret", usages)
        return _record("secret", {"name": name}, data, False, usages)
    if name == "HMAC" or name in _AES:
        if fmt != "raw":
            _fail("NotSupportedError", f"{name} keys cannot be imported in the {fmt} format")
        return _secret_key(name, alg, data, extractable, usages)
    if fmt == "raw":
        if name in _RSA:
            _fail("NotSupportedError", "RSA keys cannot be imported in the raw format")
        _check_usages(name, "public", usages)
        pub_key = _raw_public(name, alg, data)
        return _public_record(pub_key, _asym_algorithm(name, alg, None), True, usages)
    if fmt == "pkcs8":
        _check_usages(name, "private", usages)
        try:
            priv = serialization.load_der_private_key(data, None)
        except (ValueError, TypeError) as e:
            _fail("DataError", f"Invalid PKCS#8 key data: {e}")
        priv = _expect_private(name, alg, priv)
        return _private_record(priv, _asym_algorithm(name, alg, priv), extractable, usages)
    _check_usages(name, "public", usages)
    try:
        pub = serialization.load_der_public_key(data)
    except (ValueError, TypeError) as e:
        _fail("DataError", f"Invalid SPKI key data: {e}")
    pub = _expect_public(name, alg, pub)
    return _public_record(pub, _asym_algorithm(name, alg, pub), extractable, usages)


def _secret_key(
    name: str, alg: dict[str, Any], data: bytes, extractable: bool, usages: list[str]
) -> Key:
    _check_usages(name, "secret", usages)
    if name == "HMAC":
        hash_name = _hash(alg.get("hash"))
        if not data:
            _fail("DataError", "HMAC key data must not be empty")
        length = alg.get("length")
        if length is not None and length != len(data) * 8:
            _fail("DataError", "HMAC key length does not match the key data")
        algorithm = {"name": "HMAC", "hash": {"name": hash_name}, "length": len(data) * 8}
        return _record("secret", algorithm, data, extractable, usages)
    if len(data) * 8 not in (128, 192, 256):
        _fail("DataError", "AES key data must be 128, 192 or 256 bits")
    return _record("secret", {"name": name, "length": len(data) * 8}, data, extractable, usages)


def _asym_algorithm(name: str, alg: dict[str, Any], key: Any) -> Key:
    if name in _RSA:
        assert isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
        return _rsa_algorithm(name, key, _hash(alg.get("hash")))
    if name in _EC:
        return {"name": name, "namedCurve": _named_curve(alg)}
    return {"name": name}


def _raw_public(name: str, alg: dict[str, Any], data: bytes) -> PublicKey:
    try:
        if name in _EC:
            curve = _named_curve(alg)
            return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[curve], data)
        if name == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(data)
        return x25519.X25519PublicKey.from_public_bytes(data)
    except ValueError as e:
        _fail("DataError", f"Invalid {name} public key data: {e}")


_KEY_CLASSES: dict[str, tuple[type, type, type, type]] = {
    "private": (
        rsa.RSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
        x25519.X25519PrivateKey,
    ),
    "public": (
        rsa.RSAPublicKey,
        ec.EllipticCurvePublicKey,
        ed25519.Ed25519PublicKey,
        x25519.X25519PublicKey,
    ),
}


def _expect_key(name: str, alg: dict[str, Any], key: Any, kind: str) -> Any:
    """`key` if it is a `kind` ("private"/"public") key of algorithm `name` (EC: its curve)."""
    rsa_class, ec_class, ed_class, x_class = _KEY_CLASSES[kind]
    if name in _RSA and isinstance(key, rsa_class):
        return key
    if name in _EC and isinstance(key, ec_class):
        curve = cast(ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey, key).curve
        if _curve_name(curve) != _named_curve(alg):
            _fail("DataError", "The key's curve does not match namedCurve")
        return key
    if (name == "Ed25519" and isinstance(key, ed_class)) or (
        name == "X25519" and isinstance(key, x_class)
    ):
        return key
    _fail("DataError", f"The key data is not a {name} {kind} key")


def _expect_private(name: str, alg: dict[str, Any], key: Any) -> PrivateKey:
    return cast(PrivateKey, _expect_key(name, alg, key, "private"))


def _expect_public(name: str, alg: dict[str, Any], key: Any) -> PublicKey:
    return cast(PublicKey, _expect_key(name, alg, key, "public"))


def _import_jwk(
    name: str, alg: dict[str, Any], jwk: dict[str, Any], extractable: bool, usages: list[str]
) -> Key:
    if name in _KDF:
        _fail("NotSupportedError", f"{name} keys can only be imported in the raw format")
    if jwk.get("ext") is False and extractable:
        _fail("DataError", "The JWK is not extractable (ext: false)")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (
        not isinstance(key_ops, list) or any(u not in key_ops for u in usages)
    ):
        _fail("DataError", "The JWK key_ops do not allow the requested usages")
    use = jwk.get("use")
    if use is not None and usages:
        want = "sig" if any("sign" in u for u in _USAGES[name].values()) else "enc"
        if use != want:
            _fail("DataError", f"The JWK 'use' member must be {want!r}")
    kty = jwk.get("kty")
    jwk_alg = jwk.get("alg")
    if name == "HMAC" or name in _AES:
        if kty != "oct":
            _fail("DataError", "The JWK kty must be 'oct'")
        data = _b64url_decode(jwk.get("k"), "k")
        if name == "HMAC":
            expected = _JWK_HMAC_ALG[_hash(alg.get("hash"))]
        else:
            expected = f"A{len(data) * 8}{_JWK_AES_SUFFIX[name]}"
        if jwk_alg is not None and jwk_alg != expected:
            _fail("DataError", f"The JWK alg {jwk_alg!r} does not match {expected!r}")
        return _secret_key(name, alg, data, extractable, usages)
    private = "d" in jwk
    kind = "private" if private else "public"
    _check_usages(name, kind, usages)
    key: PrivateKey | PublicKey
    if name in _RSA:
        if kty != "RSA":
            _fail("DataError", "The JWK kty must be 'RSA'")
        hash_name = _hash(alg.get("hash"))
        expected = _JWK_RSA_ALG[name][hash_name]
        if jwk_alg is not None and jwk_alg != expected:
            _fail("DataError", f"The JWK alg {jwk_alg!r} does not match {expected!r}")
        key = _rsa_from_jwk(jwk)
    elif name in _EC:
        if kty != "EC":
            _fail("DataError", "The JWK kty must be 'EC'")
        curve = _named_curve(alg)
        if jwk.get("crv") != curve:
            _fail("DataError", "The JWK crv does not match namedCurve")
        key = _ec_from_jwk(curve, jwk)
    else:
        if kty != "OKP":
            _fail("DataError", "The JWK kty must be 'OKP'")
        if jwk.get("crv") != name:
            _fail("DataError", f"The JWK crv must be {name!r}")
        if name == "Ed25519" and jwk_alg is not None and jwk_alg not in ("EdDSA", "Ed25519"):
            _fail("DataError", "The JWK alg must be 'EdDSA'")
        key = _okp_from_jwk(name, jwk)
    algorithm = _asym_algorithm(name, alg, key)
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return _private_record(key, algorithm, extractable, usages)
    if isinstance(key, ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey):
        return _private_record(key, algorithm, extractable, usages)
    return _public_record(key, algorithm, extractable, usages)


def _jwk_int(jwk: dict[str, Any], member: str) -> int:
    return int.from_bytes(_b64url_decode(jwk.get(member), member), "big")


def _rsa_from_jwk(jwk: dict[str, Any]) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
    n, e = _jwk_int(jwk, "n"), _jwk_int(jwk, "e")
    public = rsa.RSAPublicNumbers(e, n)
    try:
        if "d" not in jwk:
            return public.public_key()
        d = _jwk_int(jwk, "d")
        if "p" in jwk:
            p, q = _jwk_int(jwk, "p"), _jwk_int(jwk, "q")
            dp, dq, qi = _jwk_int(jwk, "dp"), _jwk_int(jwk, "dq"), _jwk_int(jwk, "qi")
        else:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
            dp, dq, qi = rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q)
        return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public).private_key()
    except ValueError as e:
        _fail("DataError", f"Invalid RSA JWK: {e}")


def _ec_from_jwk(
    curve: str, jwk: dict[str, Any]
) -> ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey:
    size = _CURVE_BYTES[curve]
    x_bytes, y_bytes = _b64url_decode(jwk.get("x"), "x"), _b64url_decode(jwk.get("y"), "y")
    if len(x_bytes) != size or len(y_bytes) != size:
        _fail("DataError", "The JWK x/y coordinates have the wrong length")
    x, y = int.from_bytes(x_bytes, "big"), int.from_bytes(y_bytes, "big")
    try:
        public = ec.EllipticCurvePublicNumbers(x, y, _CURVES[curve]).public_key()
        if "d" not in jwk:
            return public
        d_bytes = _b64url_decode(jwk.get("d"), "d")
        if len(d_bytes) != size:
            _fail("DataError", "The JWK d has the wrong length")
        private = ec.derive_private_key(int.from_bytes(d_bytes, "big"), _CURVES[curve])
    except ValueError as e:
        _fail("DataError", f"Invalid EC JWK: {e}")
    if private.public_key().public_numbers() != public.public_numbers():
        _fail("DataError", "The JWK private key does not match its public key")
    return private


def _okp_from_jwk(name: str, jwk: dict[str, Any]) -> PrivateKey | PublicKey:
    x = _b64url_decode(jwk.get("x"), "x")
    try:
        if name == "Ed25519":
            if "d" not in jwk:
                return ed25519.Ed25519PublicKey.from_public_bytes(x)
            priv: PrivateKey = ed25519.Ed25519PrivateKey.from_private_bytes(
                _b64url_decode(jwk["d"], "d")
            )
        else:
            if "d" not in jwk:
                return x25519.X25519PublicKey.from_public_bytes(x)
            priv = x25519.X25519PrivateKey.from_private_bytes(_b64url_decode(jwk["d"], "d"))
    except ValueError as e:
        _fail("DataError", f"Invalid {name} JWK: {e}")
    if _raw_okp_public(priv.public_key()) != x:
        _fail("DataError", "The JWK private key does not match its public key")
    return priv


def _raw_okp_public(key: Any) -> bytes:
    assert isinstance(key, ed25519.Ed25519PublicKey | x25519.X25519PublicKey)
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# ---------------------------------------------------------------- exportKey
def _export_key(a: dict[str, Any]) -> Any:
    fmt = a.get("format")
    key = _key(a.get("key"))
    if fmt not in ("raw", "pkcs8", "spki", "jwk"):
        _fail("TypeError", f"Invalid key format: {fmt}")
    if not key["extractable"]:
        _fail("InvalidAccessError", "key is not extractable")
    return _export(fmt, key)


def _export(fmt: str, key: Key) -> Any:
    name = key["algorithm"]["name"]
    kind = key["type"]
    if name in _KDF:
        _fail("NotSupportedError", f"{name} keys cannot be exported")
    if fmt == "jwk":
        return _export_jwk(key)
    if kind == "secret":
        if fmt != "raw":
            _fail("NotSupportedError", f"{name} keys cannot be exported in the {fmt} format")
        return _bytes_out(_secret(key))
    if fmt == "raw":
        if name in _RSA:
            _fail("NotSupportedError", "RSA keys cannot be exported in the raw format")
        pub = _public(key)
        if isinstance(pub, ec.EllipticCurvePublicKey):
            return _bytes_out(
                pub.public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
                )
            )
        return _bytes_out(_raw_okp_public(pub))
    if (fmt == "pkcs8") != (kind == "private"):
        _fail("InvalidAccessError", f"A {kind} key cannot be exported in the {fmt} format")
    return _bytes_out(base64.b64decode(key["material"]))


def _export_jwk(key: Key) -> dict[str, Any]:
    alg = key["algorithm"]
    name = alg["name"]
    jwk: dict[str, Any]
    if key["type"] == "secret":
        data = _secret(key)
        if name == "HMAC":
            jwk = {"kty": "oct", "k": _b64url(data), "alg": _JWK_HMAC_ALG[_key_hash(key)]}
        else:
            jwk_alg = f"A{len(data) * 8}{_JWK_AES_SUFFIX[name]}"
            jwk = {"kty": "oct", "k": _b64url(data), "alg": jwk_alg}
    else:
        k: Any = _private(key) if key["type"] == "private" else _public(key)
        if isinstance(k, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            pub_n = (k.public_key() if isinstance(k, rsa.RSAPrivateKey) else k).public_numbers()
            jwk = {
                "kty": "RSA",
                "alg": _JWK_RSA_ALG[name][_key_hash(key)],
                "n": _b64url(_int_bytes(pub_n.n)),
                "e": _b64url(_int_bytes(pub_n.e)),
            }
            if isinstance(k, rsa.RSAPrivateKey):
                pn = k.private_numbers()
                jwk.update(
                    d=_b64url(_int_bytes(pn.d)),
                    p=_b64url(_int_bytes(pn.p)),
                    q=_b64url(_int_bytes(pn.q)),
                    dp=_b64url(_int_bytes(pn.dmp1)),
                    dq=_b64url(_int_bytes(pn.dmq1)),
                    qi=_b64url(_int_bytes(pn.iqmp)),
                )
        elif isinstance(k, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            curve = alg["namedCurve"]
            size = _CURVE_BYTES[curve]
            pub = k.public_key() if isinstance(k, ec.EllipticCurvePrivateKey) else k
            nums = pub.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": curve,
                "x": _b64url(_int_bytes(nums.x, size)),
                "y": _b64url(_int_bytes(nums.y, size)),
            }
            if isinstance(k, ec.EllipticCurvePrivateKey):
                jwk["d"] = _b64url(_int_bytes(k.private_numbers().private_value, size))
        else:
            pub_key = k.public_key() if key["type"] == "private" else k
            jwk = {"kty": "OKP", "crv": name, "x": _b64url(_raw_okp_public(pub_key))}
            if name == "Ed25519":
                jwk["alg"] = "Ed25519"
            if key["type"] == "private":
                raw = k.private_bytes(
                    serialization.Encoding.Raw,
                    serialization.PrivateFormat.Raw,
                    serialization.NoEncryption(),
                )
                jwk["d"] = _b64url(raw)
    jwk["key_ops"] = list(key["usages"])
    jwk["ext"] = bool(key["extractable"])
    return jwk


# ---------------------------------------------------------------- generateKey
def _generate_key(a: dict[str, Any]) -> Key:
    algorithm = a.get("algorithm")
    name = _name(algorithm)
    assert isinstance(algorithm, dict | str)
    alg: dict[str, Any] = algorithm if isinstance(algorithm, dict) else {"name": algorithm}
    extractable = bool(a.get("extractable"))
    usages = _usages(a.get("usages"))
    if name in _KDF or name in _HASHES:
        _fail("NotSupportedError", f"{name} does not support generateKey")
    if name == "HMAC" or name in _AES:
        _check_usages(name, "secret", usages)
        if name == "HMAC":
            hash_name = _hash(alg.get("hash"))
            length = alg.get("length", _BLOCK_BITS[hash_name])
            if not isinstance(length, int) or length <= 0:
                _fail("OperationError", "HMAC key length must be a positive number of bits")
            if length % 8:
                _fail("NotSupportedError", "HMAC key length must be a multiple of 8 bits")
            data = os.urandom(length // 8)
            algorithm_out = {"name": "HMAC", "hash": {"name": hash_name}, "length": length}
        else:
            length = _aes_length(alg.get("length"), "OperationError")
            data = os.urandom(length // 8)
            algorithm_out = {"name": name, "length": length}
        if not usages:
            _fail("SyntaxError", "Usages cannot be empty when creating a key.")
        return _record("secret", algorithm_out, data, extractable, usages)
    allowed = _USAGES[name]
    bad = [u for u in usages if u not in allowed["private"] | allowed["public"]]
    if bad:
        _fail("SyntaxError", f"Unsupported key usage for a {name} key: {bad[0]}")
    priv: PrivateKey
    if name in _RSA:
        hash_name = _hash(alg.get("hash"))
        bits = alg.get("modulusLength")
        exponent = int.from_bytes(_bytes(alg.get("publicExponent"), "publicExponent"), "big")
        if not isinstance(bits, int):
            _fail("TypeError", "Algorithm: modulusLength is required")
        try:
            priv = rsa.generate_private_key(public_exponent=exponent, key_size=bits)
        except ValueError as e:
            _fail("OperationError", f"Cannot generate an RSA key: {e}")
        algorithm_out = _rsa_algorithm(name, priv, hash_name)
    elif name in _EC:
        curve = _named_curve(alg)
        priv = ec.generate_private_key(_CURVES[curve])
        algorithm_out = {"name": name, "namedCurve": curve}
    elif name == "Ed25519":
        priv = ed25519.Ed25519PrivateKey.generate()
        algorithm_out = {"name": name}
    else:
        priv = x25519.X25519PrivateKey.generate()
        algorithm_out = {"name": name}
    private_usages = [u for u in usages if u in allowed["private"]]
    public_usages = [u for u in usages if u in allowed["public"]]
    if not private_usages:
        _fail("SyntaxError", "Usages cannot be empty when creating a key.")
    return {
        "privateKey": _private_record(priv, algorithm_out, extractable, private_usages),
        "publicKey": _public_record(priv.public_key(), algorithm_out, True, public_usages),
    }


# ---------------------------------------------------------------- sign / verify
def _sign(a: dict[str, Any]) -> Any:
    name = _name(a.get("algorithm"))
    key = _key(a.get("key"))
    _check_key(key, name, "sign")
    data = _bytes(a.get("data"), "data")
    alg = a["algorithm"] if isinstance(a["algorithm"], dict) else {}
    return _bytes_out(_signature(name, alg, key, data))


def _signature(name: str, alg: dict[str, Any], key: Key, data: bytes) -> bytes:
    if name == "HMAC":
        return hmac.new(_secret(key), data, _HASHLIB[_key_hash(key)]).digest()
    priv = _private(key)
    if isinstance(priv, rsa.RSAPrivateKey):
        return priv.sign(data, _rsa_sign_padding(name, alg, key), _hash_alg(_key_hash(key)))
    if isinstance(priv, ec.EllipticCurvePrivateKey):
        der = priv.sign(data, ec.ECDSA(_hash_alg(_hash(alg.get("hash")))))
        r, s = decode_dss_signature(der)
        size = _CURVE_BYTES[key["algorithm"]["namedCurve"]]
        return _int_bytes(r, size) + _int_bytes(s, size)
    if isinstance(priv, ed25519.Ed25519PrivateKey):
        return priv.sign(data)
    _fail("InvalidAccessError", f"{name} keys cannot sign")


def _rsa_sign_padding(name: str, alg: dict[str, Any], key: Key) -> rsa_padding.AsymmetricPadding:
    if name == "RSA-PSS":
        salt = alg.get("saltLength")
        if not isinstance(salt, int) or salt < 0:
            _fail("TypeError", "Algorithm: saltLength is required")
        return rsa_padding.PSS(rsa_padding.MGF1(_hash_alg(_key_hash(key))), salt)
    return rsa_padding.PKCS1v15()


def _verify(a: dict[str, Any]) -> bool:
    name = _name(a.get("algorithm"))
    key = _key(a.get("key"))
    _check_key(key, name, "verify")
    data = _bytes(a.get("data"), "data")
    signature = _bytes(a.get("signature"), "signature")
    alg = a["algorithm"] if isinstance(a["algorithm"], dict) else {}
    if name == "HMAC":
        expected = hmac.new(_secret(key), data, _HASHLIB[_key_hash(key)]).digest()
        return hmac.compare_digest(expected, signature)
    pub = _public(key)
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pad = _rsa_sign_padding(name, alg, key)
            pub.verify(signature, data, pad, _hash_alg(_key_hash(key)))
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            size = _CURVE_BYTES[key["algorithm"]["namedCurve"]]
            if len(signature) != 2 * size:
                return False
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            der = encode_dss_signature(r, s)
            pub.verify(der, data, ec.ECDSA(_hash_alg(_hash(alg.get("hash")))))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(signature, data)
        else:
            _fail("InvalidAccessError", f"{name} keys cannot verify")
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------- encrypt / decrypt
def _encrypt(a: dict[str, Any]) -> Any:
    name = _name(a.get("algorithm"))
    key = _key(a.get("key"))
    _check_key(key, name, "encrypt")
    return _bytes_out(_cipher(True, name, a["algorithm"], key, _bytes(a.get("data"), "data")))


def _decrypt(a: dict[str, Any]) -> Any:
    name = _name(a.get("algorithm"))
    key = _key(a.get("key"))
    _check_key(key, name, "decrypt")
    return _bytes_out(_cipher(False, name, a["algorithm"], key, _bytes(a.get("data"), "data")))


def _cipher(encrypt: bool, name: str, alg: Any, key: Key, data: bytes) -> bytes:
    alg = alg if isinstance(alg, dict) else {}
    if name == "RSA-OAEP":
        label = _opt_bytes(alg.get("label"), "label")
        hash_alg = _hash_alg(_key_hash(key))
        oaep = rsa_padding.OAEP(rsa_padding.MGF1(hash_alg), hash_alg, label or None)
        try:
            if encrypt:
                pub = _public(key)
                assert isinstance(pub, rsa.RSAPublicKey)
                return pub.encrypt(data, oaep)
            priv = _private(key)
            assert isinstance(priv, rsa.RSAPrivateKey)
            return priv.decrypt(data, oaep)
        except ValueError as e:
            what = "encryption" if encrypt else "decryption"
            _fail("OperationError", f"RSA-OAEP {what} failed: {e}")
    secret = _secret(key)
    if name == "AES-GCM":
        return _aes_gcm(encrypt, alg, secret, data)
    if name == "AES-CBC":
        iv = _bytes(alg.get("iv"), "iv")
        if len(iv) != 16:
            _fail("OperationError", "AES-CBC iv must be 16 bytes")
        cipher = Cipher(algorithms.AES(secret), modes.CBC(iv))
        if encrypt:
            padder = padding.PKCS7(128).padder()
            padded = padder.update(data) + padder.finalize()
            enc = cipher.encryptor()
            return enc.update(padded) + enc.finalize()
        if not data or len(data) % 16:
            _fail("OperationError", "AES-CBC ciphertext length must be a multiple of 16 bytes")
        dec = cipher.decryptor()
        plain = dec.update(data) + dec.finalize()
        try:
            unpadder = padding.PKCS7(128).unpadder()
            return unpadder.update(plain) + unpadder.finalize()
        except ValueError:
            _fail("OperationError", "AES-CBC decryption failed: bad padding")
    if name == "AES-CTR":
        return _aes_ctr(alg, secret, data)
    _fail("InvalidAccessError", f"{name} does not support encrypt/decrypt")


def _aes_gcm(encrypt: bool, alg: dict[str, Any], secret: bytes, data: bytes) -> bytes:
    iv = _bytes(alg.get("iv"), "iv")
    aad = _opt_bytes(alg.get("additionalData"), "additionalData")
    tag_bits = alg.get("tagLength", 128)
    if tag_bits not in (32, 64, 96, 104, 112, 120, 128):
        _fail("OperationError", f"Invalid AES-GCM tagLength: {tag_bits}")
    tag_len = int(tag_bits) // 8
    if not iv:
        _fail("OperationError", "AES-GCM iv must not be empty")
    try:
        if encrypt:
            enc = Cipher(algorithms.AES(secret), modes.GCM(iv)).encryptor()
            if aad:
                enc.authenticate_additional_data(aad)
            out = enc.update(data) + enc.finalize()
            return out + enc.tag[:tag_len]
        if len(data) < tag_len:
            _fail("OperationError", "AES-GCM ciphertext is shorter than its tag")
        body, tag = data[:-tag_len], data[-tag_len:]
        dec = Cipher(algorithms.AES(secret), modes.GCM(iv, tag, min_tag_length=tag_len)).decryptor()
        if aad:
            dec.authenticate_additional_data(aad)
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        _fail("OperationError", "The operation failed for an operation-specific reason")
    except ValueError as e:
        _fail("OperationError", f"AES-GCM failed: {e}")


def _aes_ctr(alg: dict[str, Any], secret: bytes, data: bytes) -> bytes:
    counter = _bytes(alg.get("counter"), "counter")
    length = alg.get("length")
    if len(counter) != 16:
        _fail("OperationError", "AES-CTR counter must be 16 bytes")
    if not isinstance(length, int) or not 1 <= length <= 128:
        _fail("OperationError", "AES-CTR length must be between 1 and 128")
    blocks = (len(data) + 15) // 16
    if length < 128 and blocks > 1 << length:
        _fail("OperationError", "AES-CTR counter would wrap around")
    # Only the rightmost `length` bits count; they wrap to zero without carrying into the rest.
    value = int.from_bytes(counter, "big")
    mask = (1 << length) - 1
    low = value & mask
    out = b""
    pos = 0
    while pos < len(data):
        room = (mask - low + 1) * 16  # bytes until the counter bits wrap
        chunk = data[pos : pos + room]
        block = (value & ~mask) | low
        enc = Cipher(algorithms.AES(secret), modes.CTR(_int_bytes(block, 16))).encryptor()
        out += enc.update(chunk) + enc.finalize()
        pos += len(chunk)
        low = 0
    return out


# ---------------------------------------------------------------- deriveBits / deriveKey
def _derive_bits(a: dict[str, Any]) -> Any:
    name = _name(a.get("algorithm"))
    key = _key(a.get("baseKey"), "baseKey")
    _check_key(key, name, "deriveBits")
    length = a.get("length")
    if length is not None and (not isinstance(length, int) or length < 0):
        _fail("TypeError", "length must be a non-negative integer or null")
    return _bytes_out(_bits(name, a["algorithm"], key, length))


def _bits(name: str, alg: Any, key: Key, length: int | None) -> bytes:
    alg = alg if isinstance(alg, dict) else {}
    if name == "PBKDF2":
        hash_name = _hash(alg.get("hash"))
        salt = _bytes(alg.get("salt"), "salt")
        iterations = alg.get("iterations")
        if not isinstance(iterations, int) or iterations < 0:
            _fail("TypeError", "Algorithm: iterations is required")
        if length is None or length % 8:
            _fail("OperationError", "PBKDF2 length must be a multiple of 8 bits")
        if iterations == 0:
            _fail("OperationError", "PBKDF2 iterations must be greater than 0")
        if length == 0:
            return b""
        return hashlib.pbkdf2_hmac(_HASHLIB[hash_name], _secret(key), salt, iterations, length // 8)
    if name == "HKDF":
        hash_name = _hash(alg.get("hash"))
        salt = _bytes(alg.get("salt"), "salt")
        info = _bytes(alg.get("info"), "info")
        if length is None or length % 8:
            _fail("OperationError", "HKDF length must be a multiple of 8 bits")
        if length == 0:
            return b""
        try:
            return HKDF(_hash_alg(hash_name), length // 8, salt, info).derive(_secret(key))
        except ValueError as e:
            _fail("OperationError", f"HKDF failed: {e}")
    # ECDH / X25519
    peer = _key(alg.get("public"), "public")
    if peer["type"] != "public" or peer["algorithm"]["name"] != name:
        _fail("InvalidAccessError", f"The public key must be a {name} public key")
    if name == "ECDH" and peer["algorithm"]["namedCurve"] != key["algorithm"]["namedCurve"]:
        _fail("InvalidAccessError", "The public key is on a different curve")
    priv, pub = _private(key), _public(peer)
    try:
        if isinstance(priv, ec.EllipticCurvePrivateKey):
            assert isinstance(pub, ec.EllipticCurvePublicKey)
            secret = priv.exchange(ec.ECDH(), pub)
        else:
            assert isinstance(priv, x25519.X25519PrivateKey)
            assert isinstance(pub, x25519.X25519PublicKey)
            secret = priv.exchange(pub)
    except ValueError as e:
        _fail("OperationError", f"{name} failed: {e}")
    if length is None:
        return secret
    if length > len(secret) * 8:
        _fail("OperationError", f"{name} can derive at most {len(secret) * 8} bits")
    out = bytearray(secret[: (length + 7) // 8])
    if length % 8:
        out[-1] &= (0xFF << (8 - length % 8)) & 0xFF
    return bytes(out)


def _derived_length(alg: Any) -> int | None:
    name = _name(alg)
    alg = alg if isinstance(alg, dict) else {}
    if name in _AES:
        return _aes_length(alg.get("length"), "OperationError")
    if name == "HMAC":
        length = alg.get("length")
        if length is None:
            return _BLOCK_BITS[_hash(alg.get("hash"))]
        if not isinstance(length, int) or length <= 0:
            _fail("TypeError", "HMAC length must be a positive integer")
        return length
    if name in _KDF:
        return None
    _fail("NotSupportedError", f"Cannot derive a {name} key")


def _derive_key(a: dict[str, Any]) -> Key:
    name = _name(a.get("algorithm"))
    target = a.get("derivedKeyType")
    target_name = _name(target)
    if target_name in _HASHES:
        _fail("NotSupportedError", f"{target_name} is not a key algorithm")
    length = _derived_length(target)
    key = _key(a.get("baseKey"), "baseKey")
    _check_key(key, name, "deriveKey")
    bits = _bits(name, a["algorithm"], key, length)
    return _import_key(
        {
            "format": "raw",
            "keyData": _bytes_out(bits),
            "algorithm": target,
            "extractable": a.get("extractable"),
            "usages": a.get("usages"),
        }
    )


# ---------------------------------------------------------------- wrapKey / unwrapKey
def _wrap_key(a: dict[str, Any]) -> Any:
    fmt = a.get("format")
    key = _key(a.get("key"))
    wrapping = _key(a.get("wrappingKey"), "wrappingKey")
    name = _name(a.get("wrapAlgorithm"))
    _check_key(wrapping, name, "wrapKey")
    if not key["extractable"]:
        _fail("InvalidAccessError", "key is not extractable")
    exported = _export_key({"format": fmt, "key": key})
    data = orjson.dumps(exported) if fmt == "jwk" else _bytes(exported, "key")
    if name == "AES-KW":
        if len(data) % 8 or len(data) < 16:
            _fail("OperationError", "AES-KW wraps keys of a multiple of 8 bytes (at least 16)")
        return _bytes_out(keywrap.aes_key_wrap(_secret(wrapping), data))
    return _bytes_out(_cipher(True, name, a["wrapAlgorithm"], wrapping, data))


def _unwrap_key(a: dict[str, Any]) -> Key:
    fmt = a.get("format")
    unwrapping = _key(a.get("unwrappingKey"), "unwrappingKey")
    name = _name(a.get("unwrapAlgorithm"))
    _name(a.get("unwrappedKeyAlgorithm"))
    _check_key(unwrapping, name, "unwrapKey")
    wrapped = _bytes(a.get("wrappedKey"), "wrappedKey")
    if name == "AES-KW":
        try:
            data = keywrap.aes_key_unwrap(_secret(unwrapping), wrapped)
        except (keywrap.InvalidUnwrap, ValueError):
            _fail("OperationError", "AES-KW unwrap failed")
    else:
        data = _cipher(False, name, a["unwrapAlgorithm"], unwrapping, wrapped)
    key_data: Any
    if fmt == "jwk":
        try:
            key_data = orjson.loads(data)
        except orjson.JSONDecodeError:
            _fail("DataError", "The unwrapped key is not a JSON Web Key")
    else:
        key_data = _bytes_out(data)
    return _import_key(
        {
            "format": fmt,
            "keyData": key_data,
            "algorithm": a.get("unwrappedKeyAlgorithm"),
            "extractable": a.get("extractable"),
            "usages": a.get("usages"),
        }
    )


# ---------------------------------------------------------------- digest
def _digest(a: dict[str, Any]) -> Any:
    name = _name(a.get("algorithm"))
    if name not in _HASHES:
        _fail("NotSupportedError", f"{name} is not a digest algorithm")
    return _bytes_out(hashlib.new(_HASHLIB[name], _bytes(a.get("data"), "data")).digest())


_OPERATIONS: dict[str, Any] = {
    "digest": _digest,
    "importKey": _import_key,
    "exportKey": _export_key,
    "generateKey": _generate_key,
    "sign": _sign,
    "verify": _verify,
    "encrypt": _encrypt,
    "decrypt": _decrypt,
    "deriveBits": _derive_bits,
    "deriveKey": _derive_key,
    "wrapKey": _wrap_key,
    "unwrapKey": _unwrap_key,
}
