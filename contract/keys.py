"""Admin and deploy keys: minted by the control plane, verified by a data plane with no database.

A key reads `<deployment name>|<payload>.<signature>`, the same outer shape as Convex's admin
keys (the CLI splits on `|` to learn the deployment name). The payload is base64url JSON with a
key id and the allowed actions; the signature is HMAC-SHA256 under the deployment's instance
secret, so a key minted for one deployment is refused by every other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import orjson

ALL_ACTIONS = "*"


@dataclass(frozen=True)
class KeyClaims:
    deployment: str
    key_id: str
    actions: frozenset[str] = field(default_factory=lambda: frozenset({ALL_ACTIONS}))

    def allows(self, action: str) -> bool:
        return ALL_ACTIONS in self.actions or action in self.actions


def new_instance_secret() -> str:
    """A fresh per-deployment signing secret (hex, 256 bits)."""
    return secrets.token_hex(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, deployment: str, payload: str) -> str:
    mac = hmac.new(secret.encode(), f"{deployment}|{payload}".encode(), hashlib.sha256)
    return _b64(mac.digest())


def mint_key(
    deployment: str,
    instance_secret: str,
    *,
    key_id: str | None = None,
    actions: frozenset[str] | None = None,
) -> str:
    """Mint a key for `deployment`; `actions` defaults to everything (an admin key)."""
    if not instance_secret:
        raise ValueError("a deployment needs an instance secret to mint keys")
    body = {
        "k": key_id or secrets.token_hex(8),
        "a": sorted(actions) if actions is not None else [ALL_ACTIONS],
    }
    payload = _b64(orjson.dumps(body))
    return f"{deployment}|{payload}.{_sign(instance_secret, deployment, payload)}"


def verify_key(key: str, deployment: str, instance_secret: str) -> KeyClaims | None:
    """The key's claims if it was minted for this deployment under this secret, else None."""
    if not instance_secret or "|" not in key:
        return None
    name, _, rest = key.partition("|")
    payload, dot, signature = rest.rpartition(".")
    if not dot or name != deployment:
        return None
    expected = _sign(instance_secret, deployment, payload)
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        body = orjson.loads(_unb64(payload))
        return KeyClaims(deployment=name, key_id=str(body["k"]), actions=frozenset(body["a"]))
    except (ValueError, KeyError, TypeError):
        return None
