"""`ctx.auth.signJwt`: deployment-issued JWTs, verifiable at `<deployment>/.well-known/jwks.json`.

The ES256 signing key is derived (HKDF) from the deployment's instance secret, so every
replica of a deployment signs with the same key without storing one, and no two deployments
share a key. Claims follow convex/server 1.48's rules: `iss`/`iat`/`exp`/`nbf` and names
starting with `convex`/`cvx` (any case) are reserved; lifetime is 1 second to 1 hour.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "ES256"
MAX_LIFETIME_SECONDS = 3600
_RESERVED = frozenset({"iss", "iat", "exp", "nbf"})
_RESERVED_PREFIXES = ("convex", "cvx")
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class SignJwtError(ValueError):
    """Bad signJwt options (the message is what the calling function sees)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@functools.lru_cache(maxsize=64)
def signing_key(instance_secret: str) -> ec.EllipticCurvePrivateKey:
    """The deployment's P-256 key, derived from its instance secret."""
    if not instance_secret:
        raise SignJwtError("ctx.auth.signJwt needs the deployment's instance secret to be set")
    material = HKDF(
        algorithm=hashes.SHA256(), length=48, salt=None, info=b"strata/signJwt/ES256/v1"
    ).derive(instance_secret.encode())
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
        "use": "sig",
        "alg": ALGORITHM,
        "kid": _b64url(hashlib.sha256(der).digest()[:12]),
    }


def jwks(instance_secret: str) -> dict[str, Any]:
    """The JSON Web Key Set that verifies this deployment's tokens."""
    return {"keys": [_public_jwk(signing_key(instance_secret))]}


def _claims(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SignJwtError("signJwt: `claims` must be an object")
    for name in raw:
        if name in _RESERVED:
            raise SignJwtError(f"signJwt: the claim {name!r} is set by Convex and is reserved")
        if name.lower().startswith(_RESERVED_PREFIXES):
            raise SignJwtError(
                f"signJwt: claim names starting with 'convex' or 'cvx' are reserved: {name!r}"
            )
    return dict(raw)


def sign_jwt(instance_secret: str, issuer: str, options: dict[str, Any]) -> str:
    """A signed token for `options` = `{claims?, expiresInSeconds}` (the syscall's args)."""
    lifetime = options.get("expiresInSeconds")
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)):
        raise SignJwtError("signJwt: `expiresInSeconds` must be a number")
    if not math.isfinite(lifetime) or not 1 <= lifetime <= MAX_LIFETIME_SECONDS:
        raise SignJwtError(
            f"signJwt: `expiresInSeconds` must be between 1 and {MAX_LIFETIME_SECONDS}, "
            f"got {lifetime}"
        )
    now = int(time.time())
    payload = {
        **_claims(options.get("claims")),
        "iss": issuer,
        "iat": now,
        "exp": now + int(lifetime),
    }
    key = signing_key(instance_secret)
    return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": _public_jwk(key)["kid"]})


@dataclass(frozen=True)
class JwtSigner:
    """`ctx.auth.signJwt` for one deployment: its instance secret and issuer (public URL)."""

    instance_secret: str
    issuer: str

    def sign(self, options: dict[str, Any]) -> str:
        return sign_jwt(self.instance_secret, self.issuer, options)
