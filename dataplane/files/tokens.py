"""Signed, expiring upload tokens: what `generateUploadUrl` hands out and the endpoint checks.

A token is base64url(payload).base64url(HMAC-SHA256(instance secret, payload)); the payload
names the deployment and an expiry, so a token is useless on another deployment or later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import orjson

UPLOAD_TOKEN_TTL = 3600.0
_PURPOSE = b"strata-upload-token\x00"


class UploadTokenError(ValueError):
    """A missing, forged, foreign or expired upload token."""


class UploadTokenExpired(UploadTokenError):
    """A genuine upload token past its expiry."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: bytes) -> bytes:
    if not secret:
        raise UploadTokenError("The deployment has no instance secret to sign upload URLs with")
    return hmac.new(secret.encode(), _PURPOSE + payload, hashlib.sha256).digest()


def sign_upload_token(
    secret: str,
    deployment: str,
    ttl: float = UPLOAD_TOKEN_TTL,
    now: float | None = None,
    table: str | None = None,
) -> str:
    """A fresh token for one deployment, valid for `ttl` seconds; `table` names a component's
    own storage table the upload goes to (None: the app's)."""
    expires = (time.time() if now is None else now) + ttl
    claims: dict[str, object] = {"d": deployment, "e": expires, "n": _b64(os.urandom(12))}
    if table is not None:
        claims["t"] = table
    payload = orjson.dumps(claims)
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify_upload_token(
    secret: str, deployment: str, token: str | None, now: float | None = None
) -> str | None:
    """Raise UploadTokenError unless we signed the token, for this deployment, and it is live;
    returns the storage table it was issued for (None: the app's)."""
    if not token:
        raise UploadTokenError("Missing upload token: use a URL from storage.generateUploadUrl()")
    try:
        payload_b64, mac_b64 = token.split(".")
        payload = _unb64(payload_b64)
        mac = _unb64(mac_b64)
    except ValueError:
        raise UploadTokenError("Malformed upload token") from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise UploadTokenError("Invalid upload token signature")
    try:
        claims = orjson.loads(payload)
        target, expires = str(claims["d"]), float(claims["e"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise UploadTokenError("Malformed upload token") from None
    if target != deployment:
        raise UploadTokenError("Upload token belongs to a different deployment")
    if (time.time() if now is None else now) > expires:
        raise UploadTokenExpired("Upload URL expired: generate a new one")
    table = claims.get("t")
    return table if isinstance(table, str) else None
