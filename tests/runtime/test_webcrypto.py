"""crypto.subtle in deployed functions, as Convex's V8 runtime offers it (W3C Web Crypto).

Functions of tests/apps/webcrypto_app run in a real isolate. Known-answer vectors come from the
RFCs and NIST publications named at each test; randomised algorithms are checked by interop
with Python's `cryptography` in both directions (sign in V8 and verify here, and vice versa).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from dataplane.app import DeploymentApp
from dataplane.runtime import AppAnalysis, Bundle, FunctionRunner, analyze_bundle, build_bundle
from tests.apps.cli_bundle import cli_modules
from tests.runtime.conftest import activate, make_deployment


@pytest.fixture(scope="module")
def crypto_bundle() -> Bundle:
    return build_bundle(cli_modules("webcrypto_app"))


@pytest.fixture(scope="module")
def crypto_analysis(crypto_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(crypto_bundle, {})


@pytest.fixture(scope="module")
def crunner(
    tmp_path_factory: pytest.TempPathFactory, crypto_bundle: Bundle, crypto_analysis: AppAnalysis
) -> Iterator[FunctionRunner]:
    tmp: Path = tmp_path_factory.mktemp("webcrypto")
    deployment: DeploymentApp = make_deployment(tmp, "webcrypto-test")
    try:
        yield activate(deployment, crypto_bundle, crypto_analysis, env={})
    finally:
        deployment.close()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pkcs8(key: Any) -> str:
    der: bytes = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return der.hex()


def _spki(key: Any) -> str:
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der.hex()


def _action(runner: FunctionRunner, name: str, **args: Any) -> Any:
    return runner.run_action(f"crypto:{name}", args).value


# ---------------------------------------------------------------- digest and HMAC
def test_digest_matches_fips_180(crunner: FunctionRunner) -> None:
    # FIPS 180-2 appendix examples: "abc".
    abc = b"abc".hex()
    sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert crunner.run_query("crypto:digest", {"algorithm": "SHA-256", "data": abc}).value == (
        sha256_abc
    )
    for name in ("SHA-1", "SHA-384", "SHA-512"):
        out = crunner.run_query("crypto:digest", {"algorithm": name, "data": abc}).value
        assert out == hashlib.new(name.replace("-", "").lower(), b"abc").hexdigest()


@pytest.mark.parametrize(
    ("key", "data", "hash_name", "expected"),
    [
        # RFC 4231 test case 1
        (
            "0b" * 20,
            b"Hi There".hex(),
            "SHA-256",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            "0b" * 20,
            b"Hi There".hex(),
            "SHA-512",
            "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
            "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
        ),
        # RFC 4231 test case 2
        (
            b"Jefe".hex(),
            b"what do ya want for nothing?".hex(),
            "SHA-256",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            b"Jefe".hex(),
            b"what do ya want for nothing?".hex(),
            "SHA-384",
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            "8e2240ca5e69e2c78b3239ecfab21649",
        ),
    ],
)
def test_hmac_rfc4231(
    crunner: FunctionRunner, key: str, data: str, hash_name: str, expected: str
) -> None:
    out = _action(crunner, "hmac", hash=hash_name, key=key, data=data)
    assert out["sig"] == expected
    assert out["verified"] is True and out["verifiedTampered"] is False
    assert out["algorithm"] == {
        "name": "HMAC",
        "hash": {"name": hash_name},
        "length": float(len(key) * 4),
    }
    jwk = out["jwk"]
    assert jwk["kty"] == "oct" and jwk["alg"] == "HS" + hash_name[4:]
    assert jwk["key_ops"] == ["sign", "verify"] and jwk["ext"] is True


# ---------------------------------------------------------------- key derivation
@pytest.mark.parametrize(
    ("password", "salt", "iterations", "hash_name", "expected"),
    [
        # RFC 6070 (PBKDF2-HMAC-SHA1)
        (b"password", b"salt", 1, "SHA-1", "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
        (b"password", b"salt", 2, "SHA-1", "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
        (b"password", b"salt", 4096, "SHA-1", "4b007901b765489abead49d926f721d065a429c1"),
        # RFC 7914 section 11 (PBKDF2-HMAC-SHA256)
        (
            b"passwd",
            b"salt",
            1,
            "SHA-256",
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
            "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
        ),
    ],
)
def test_pbkdf2_rfc_vectors_in_a_mutation(
    crunner: FunctionRunner,
    password: bytes,
    salt: bytes,
    iterations: int,
    hash_name: str,
    expected: str,
) -> None:
    args = {
        "hash": hash_name,
        "password": password.hex(),
        "salt": salt.hex(),
        "iterations": float(iterations),
        "bits": float(len(expected) * 4),
    }
    out = crunner.run_mutation("crypto:pbkdf2", args).value
    assert out["bits"] == expected
    algo = hash_name.replace("-", "").lower()
    assert out["aesKey"] == hashlib.pbkdf2_hmac(algo, password, salt, iterations, 32).hex()
    assert out["aesAlgorithm"] == {"name": "AES-GCM", "length": 256.0}
    assert out["baseType"] == "secret" and out["baseExtractable"] is False
    assert out["baseUsages"] == ["deriveBits", "deriveKey"]


@pytest.mark.parametrize(
    ("ikm", "salt", "info", "expected"),
    [
        # RFC 5869 A.1
        (
            "0b" * 22,
            "000102030405060708090a0b0c",
            "f0f1f2f3f4f5f6f7f8f9",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        # RFC 5869 A.3 (empty salt and info)
        (
            "0b" * 22,
            "",
            "",
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ],
)
def test_hkdf_rfc5869(
    crunner: FunctionRunner, ikm: str, salt: str, info: str, expected: str
) -> None:
    out = _action(
        crunner, "hkdf", hash="SHA-256", ikm=ikm, salt=salt, info=info, bits=float(42 * 8)
    )
    assert out == expected


# ---------------------------------------------------------------- AES
_GCM_KEY = "feffe9928665731c6d6a8f9467308308"
_GCM_IV = "cafebabefacedbaddecaf888"
_GCM_PT = (
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
_GCM_CT = (
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
)


def test_aes_gcm_nist_vector(crunner: FunctionRunner) -> None:
    # The GCM specification's test case 4 (AES-128, with additional data), as used in NIST's
    # GCM validation.
    algorithm = {
        "name": "AES-GCM",
        "iv": "hex:" + _GCM_IV,
        "additionalData": "hex:feedfacedeadbeeffeedfacedeadbeefabaddad2",
    }
    out = _action(crunner, "cipher", algorithm=algorithm, key=_GCM_KEY, plaintext=_GCM_PT)
    assert out["ciphertext"] == _GCM_CT + "5bc94fbc3221a5db94fae95ae7121a47"
    assert out["decrypted"] == _GCM_PT
    assert out["tamperedError"] == "OperationError"
    # A truncated tag (96 bits) is the full tag's prefix.
    out = _action(
        crunner, "cipher", algorithm={**algorithm, "tagLength": 96}, key=_GCM_KEY, plaintext=_GCM_PT
    )
    assert out["ciphertext"] == _GCM_CT + "5bc94fbc3221a5db94fae95a"
    assert out["decrypted"] == _GCM_PT


def test_aes_cbc_and_ctr_sp800_38a(crunner: FunctionRunner) -> None:
    key = "2b7e151628aed2a6abf7158809cf4f3c"
    pt = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    # F.2.1 CBC-AES128: Web Crypto adds a PKCS#7 padding block after the two NIST blocks.
    cbc = {"name": "AES-CBC", "iv": "hex:000102030405060708090a0b0c0d0e0f"}
    out = _action(crunner, "cipher", algorithm=cbc, key=key, plaintext=pt)
    assert out["ciphertext"][:64] == (
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
    )
    assert len(out["ciphertext"]) == 96 and out["decrypted"] == pt
    assert out["tamperedError"] == "OperationError"
    # F.5.1 CTR-AES128
    ctr = {"name": "AES-CTR", "counter": "hex:f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "length": 64}
    out = _action(crunner, "cipher", algorithm=ctr, key=key, plaintext=pt)
    assert out["ciphertext"] == ("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff")
    assert out["decrypted"] == pt
    # With an 8-bit counter the rightmost byte wraps to 00 without carrying: the second block
    # uses counter ...fe00, not ...ff00.
    wrap = {**ctr, "length": 8}
    out = _action(crunner, "cipher", algorithm=wrap, key=key, plaintext=pt)
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    second = Cipher(
        algorithms.AES(bytes.fromhex(key)),
        modes.CTR(bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfe00")),
    ).encryptor()
    assert out["ciphertext"][32:] == second.update(bytes.fromhex(pt[32:])).hex()
    assert out["ciphertext"][:32] == "874d6191b620e3261bef6864990db6ce"


def test_aes_kw_rfc3394_and_wrap_as_jwk(crunner: FunctionRunner) -> None:
    out = _action(
        crunner,
        "wrap",
        kek="000102030405060708090a0b0c0d0e0f",
        keyData="00112233445566778899aabbccddeeff",
    )
    assert out["wrapped"] == "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5"  # RFC 3394 4.1
    assert out["unwrapped"] == "00112233445566778899aabbccddeeff"
    assert out["unwrappedUsages"] == ["decrypt"]
    assert out["jwkRoundTrip"] == "00112233445566778899aabbccddeeff"


# ---------------------------------------------------------------- signatures
_ED25519 = [
    # RFC 8032 7.1 TEST 1 and TEST 2: (secret, public, message, signature)
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


def _b64url(h: str) -> str:
    import base64

    return base64.urlsafe_b64encode(bytes.fromhex(h)).rstrip(b"=").decode()


@pytest.mark.parametrize(("secret", "public", "message", "signature"), _ED25519)
def test_ed25519_rfc8032(
    crunner: FunctionRunner, secret: str, public: str, message: str, signature: str
) -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "d": _b64url(secret), "x": _b64url(public)}
    out = _action(
        crunner,
        "sign",
        format="jwk",
        keyData=jwk,
        algorithm="Ed25519",
        signAlgorithm="Ed25519",
        data=message,
    )
    assert out["signature"] == signature
    assert out["type"] == "private" and out["algorithm"] == {"name": "Ed25519"}
    pkcs8 = _pkcs8(ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret)))
    out = _action(
        crunner,
        "sign",
        format="pkcs8",
        keyData=pkcs8,
        algorithm={"name": "Ed25519"},
        signAlgorithm="Ed25519",
        data=message,
    )
    assert out["signature"] == signature
    for fmt, data in (
        ("raw", public),
        ("jwk", {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public)}),
    ):
        common = {
            "format": fmt,
            "keyData": data,
            "algorithm": "Ed25519",
            "signAlgorithm": "Ed25519",
        }
        assert _action(crunner, "verify", **common, data=message, signature=signature) is True
        bad = signature[:-2] + ("01" if signature[-2:] != "01" else "02")
        assert _action(crunner, "verify", **common, data=message, signature=bad) is False


def test_rsassa_pkcs1_v1_5_matches_python(
    crunner: FunctionRunner, rsa_key: rsa.RSAPrivateKey
) -> None:
    data = b"signed in V8".hex()
    algorithm = {"name": "RSASSA-PKCS1-v1_5", "hash": "SHA-256"}
    out = _action(
        crunner,
        "sign",
        format="pkcs8",
        keyData=_pkcs8(rsa_key),
        algorithm=algorithm,
        signAlgorithm="RSASSA-PKCS1-v1_5",
        data=data,
    )
    # PKCS#1 v1.5 signatures are deterministic: V8 and Python produce the same bytes.
    expected = rsa_key.sign(bytes.fromhex(data), padding.PKCS1v15(), hashes.SHA256())
    assert out["signature"] == expected.hex()
    assert out["algorithm"]["modulusLength"] == 2048.0
    assert out["algorithm"]["hash"] == {"name": "SHA-256"}
    assert out["algorithm"]["publicExponent"] == "hex:010001"  # a Uint8Array
    assert out["usages"] == ["sign"] and out["extractable"] is True
    verify = {"format": "spki", "keyData": _spki(rsa_key.public_key()), "algorithm": algorithm}
    other = rsa_key.sign(b"python", padding.PKCS1v15(), hashes.SHA256()).hex()
    assert _action(
        crunner, "verify", **verify, signAlgorithm=algorithm, data=b"python".hex(), signature=other
    )
    assert not _action(
        crunner, "verify", **verify, signAlgorithm=algorithm, data=b"pythoN".hex(), signature=other
    )


def test_rsa_pss_interop(crunner: FunctionRunner, rsa_key: rsa.RSAPrivateKey) -> None:
    data = b"pss message"
    algorithm = {"name": "RSA-PSS", "hash": "SHA-384"}
    sign_algorithm = {"name": "RSA-PSS", "saltLength": 48}
    pss = padding.PSS(padding.MGF1(hashes.SHA384()), 48)
    out = _action(
        crunner,
        "sign",
        format="pkcs8",
        keyData=_pkcs8(rsa_key),
        algorithm=algorithm,
        signAlgorithm=sign_algorithm,
        data=data.hex(),
    )
    rsa_key.public_key().verify(bytes.fromhex(out["signature"]), data, pss, hashes.SHA384())
    sig = rsa_key.sign(data, pss, hashes.SHA384()).hex()
    assert _action(
        crunner,
        "verify",
        format="spki",
        keyData=_spki(rsa_key.public_key()),
        algorithm=algorithm,
        signAlgorithm=sign_algorithm,
        data=data.hex(),
        signature=sig,
    )


@pytest.mark.parametrize(
    ("curve", "named", "hash_name", "hash_cls"),
    [
        (ec.SECP256R1(), "P-256", "SHA-256", hashes.SHA256),
        (ec.SECP384R1(), "P-384", "SHA-384", hashes.SHA384),
        (ec.SECP521R1(), "P-521", "SHA-512", hashes.SHA512),
    ],
)
def test_ecdsa_interop(
    crunner: FunctionRunner,
    curve: ec.EllipticCurve,
    named: str,
    hash_name: str,
    hash_cls: type[hashes.HashAlgorithm],
) -> None:
    key = ec.generate_private_key(curve)
    size = (curve.key_size + 7) // 8
    data = b"ecdsa message"
    algorithm = {"name": "ECDSA", "namedCurve": named}
    sign_algorithm = {"name": "ECDSA", "hash": hash_name}
    out = _action(
        crunner,
        "sign",
        format="pkcs8",
        keyData=_pkcs8(key),
        algorithm=algorithm,
        signAlgorithm=sign_algorithm,
        data=data.hex(),
    )
    raw = bytes.fromhex(out["signature"])
    assert len(raw) == 2 * size  # IEEE P1363 r || s, not DER
    der = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
    key.public_key().verify(der, data, ec.ECDSA(hash_cls()))
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_cls())))
    python_sig = (r.to_bytes(size, "big") + s.to_bytes(size, "big")).hex()
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    for fmt, key_data in (("spki", _spki(key.public_key())), ("raw", point.hex())):
        common = {"format": fmt, "keyData": key_data, "algorithm": algorithm}
        assert _action(
            crunner,
            "verify",
            **common,
            signAlgorithm=sign_algorithm,
            data=data.hex(),
            signature=python_sig,
        )
        assert not _action(
            crunner,
            "verify",
            **common,
            signAlgorithm=sign_algorithm,
            data=b"other".hex(),
            signature=python_sig,
        )


@pytest.mark.parametrize(
    ("algorithm", "sign_algorithm"),
    [
        ({"name": "ECDSA", "namedCurve": "P-384"}, {"name": "ECDSA", "hash": "SHA-384"}),
        ("Ed25519", "Ed25519"),
        (
            {
                "name": "RSASSA-PKCS1-v1_5",
                "modulusLength": 2048,
                "publicExponent": "hex:010001",
                "hash": "SHA-256",
            },
            "RSASSA-PKCS1-v1_5",
        ),
    ],
)
def test_generated_keys_sign_and_python_verifies(
    crunner: FunctionRunner, algorithm: Any, sign_algorithm: Any
) -> None:
    data = b"generated in V8"
    out = _action(
        crunner,
        "generateAndSign",
        algorithm=algorithm,
        signAlgorithm=sign_algorithm,
        data=data.hex(),
    )
    assert out["verified"] is True and out["verifiedReimported"] is True
    assert out["privateKey"]["type"] == "private" and out["privateKey"]["usages"] == ["sign"]
    assert out["publicKey"]["type"] == "public" and out["publicKey"]["usages"] == ["verify"]
    assert out["publicKey"]["extractable"] is True and out["jwkOps"] == ["sign"]
    public = serialization.load_der_public_key(bytes.fromhex(out["spki"]))
    private = serialization.load_der_private_key(bytes.fromhex(out["pkcs8"]), None)
    sig = bytes.fromhex(out["signature"])
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert out["jwkKty"] == "EC" and out["publicKey"]["algorithm"]["namedCurve"] == "P-384"
        der = encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big"))
        public.verify(der, data, ec.ECDSA(hashes.SHA384()))
    elif isinstance(public, ed25519.Ed25519PublicKey):
        assert out["jwkKty"] == "OKP"
        public.verify(sig, data)
    else:
        assert isinstance(public, rsa.RSAPublicKey) and out["jwkKty"] == "RSA"
        assert public.key_size == 2048 and public.public_numbers().e == 65537
        public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    assert private.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == bytes.fromhex(out["spki"])


# ---------------------------------------------------------------- RSA-OAEP and key agreement
def test_rsa_oaep_interop(crunner: FunctionRunner, rsa_key: rsa.RSAPrivateKey) -> None:
    algorithm = {"name": "RSA-OAEP", "hash": "SHA-256"}
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), b"lbl")
    encrypt = {**algorithm, "label": "hex:" + b"lbl".hex()}
    ct = _action(
        crunner,
        "encrypt",
        format="spki",
        keyData=_spki(rsa_key.public_key()),
        algorithm=encrypt,
        plaintext=b"secret for python".hex(),
    )
    assert rsa_key.decrypt(bytes.fromhex(ct), oaep) == b"secret for python"
    python_ct = rsa_key.public_key().encrypt(b"secret for V8", oaep).hex()
    out = _action(
        crunner,
        "decrypt",
        format="pkcs8",
        keyData=_pkcs8(rsa_key),
        algorithm=encrypt,
        usage="decrypt",
        ciphertext=python_ct,
    )
    assert bytes.fromhex(out) == b"secret for V8"


def test_ecdh_and_x25519_agree_with_python(crunner: FunctionRunner) -> None:
    for named, curve in (("P-256", ec.SECP256R1()), ("P-521", ec.SECP521R1())):
        a, b = ec.generate_private_key(curve), ec.generate_private_key(curve)
        out = _action(
            crunner,
            "agree",
            algorithm={"name": "ECDH", "namedCurve": named},
            privatePkcs8=_pkcs8(a),
            peerSpki=_spki(b.public_key()),
            bits=None,
        )
        shared = a.exchange(ec.ECDH(), b.public_key())
        assert out["shared"] == shared.hex()
        assert out["hmacKey"] == shared[:16].hex()
    # RFC 7748 6.1: Alice's private key with Bob's public key.
    alice = x25519.X25519PrivateKey.from_private_bytes(
        bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    )
    bob = x25519.X25519PublicKey.from_public_bytes(
        bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    )
    out = _action(
        crunner,
        "agree",
        algorithm={"name": "X25519"},
        privatePkcs8=_pkcs8(alice),
        peerSpki=_spki(bob),
        bits=128.0,
    )
    assert out["shared"] == "4a5d9d5ba4ce2de1728e3bf480350f25"
    assert out["peerRaw"] == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"


# ---------------------------------------------------------------- libraries and errors
def test_jose_signs_a_jwt_with_a_pem_key(
    crunner: FunctionRunner, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    token = _action(crunner, "signJwt", pem=pem, subject="user|1")
    claims = jwt.decode(
        token,
        key=rsa_key.public_key(),
        algorithms=["RS256"],
        audience="convex",
        issuer="https://issuer.example",
    )
    assert claims["sub"] == "user|1"
    assert jwt.get_unverified_header(token)["kid"] == "k1"


def test_spec_errors_for_misuse(crunner: FunctionRunner) -> None:
    out = _action(crunner, "errors")
    assert out == {
        "unknownAlgorithm": "NotSupportedError",
        "unknownDigest": "NotSupportedError",
        "wrongUsageForAlgorithm": "SyntaxError",
        "emptyUsages": "SyntaxError",
        "badAesLength": "DataError",
        "badPkcs8": "DataError",
        "rawRsa": "NotSupportedError",
        "extractablePbkdf2": "SyntaxError",
        "notExtractable": "InvalidAccessError",
        "signWithoutUsage": "InvalidAccessError",
        "verifyWithSignOnlyKey": "InvalidAccessError",
        "decryptWithEncryptOnlyKey": "InvalidAccessError",
        "algorithmMismatch": "InvalidAccessError",
        "signWithPublicKey": "InvalidAccessError",
        "pkcs8OfPublicKey": "InvalidAccessError",
        "pbkdf2WithoutLength": "OperationError",
        "generateAes100": "OperationError",
        "notAKey": "TypeError",
        "notBytes": "TypeError",
        "constructKey": "TypeError",
        "publicKeyExtractable": True,
        "isCryptoKey": True,
        "randomUuid": True,
        "randomValues": 16.0,
    }


def test_hmac_matches_python_for_long_keys(crunner: FunctionRunner) -> None:
    # Keys longer than the hash block are hashed first (RFC 2104); RFC 4231 test case 6 size.
    key, data = "aa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"
    out = _action(crunner, "hmac", hash="SHA-256", key=key, data=data.hex())
    assert out["sig"] == hmac.new(bytes.fromhex(key), data, "sha256").hexdigest()
    assert out["sig"] == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_generated_keys_of_each_family_round_trip(crunner: FunctionRunner) -> None:
    out = _action(crunner, "generatedRoundTrips")
    assert out == {
        "oaep": "round trip",
        "oaepUsages": [["encrypt"], ["decrypt"]],
        "ecdhAgree": True,
        "ecdhPublicUsages": [],
        "ecdhJwk": ["EC", "P-384", "string", False],
        "hmacLength": 1024.0,  # the SHA-512 block size when no length is given
        "hmacJwkAlg": "HS512",
        "hmacVerifies": True,
        "aesJwkAlg": "A256GCM",
        "aes": "round trip",
        "jwkExtMismatch": "DataError",
        "jwkOpsMismatch": "DataError",
    }
