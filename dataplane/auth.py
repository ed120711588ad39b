"""Who is calling: admin keys (CLI, dashboard, control plane) and, later, end-user JWTs."""

from __future__ import annotations

from collections.abc import Mapping

from tenants.keys import KeyClaims, verify_key

from .deployment import current_deployment


class AuthError(Exception):
    """The request's credentials were present but unacceptable."""


def bearer_from_headers(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(scheme, token) from an Authorization header such as `Convex <key>` or `Bearer <jwt>`."""
    raw = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, token = raw.strip().partition(" ")
    if not token:
        return None
    return scheme.lower(), token.strip()


def admin_claims(token: str) -> KeyClaims | None:
    """The claims of an admin/deploy key minted for this deployment, or None."""
    config = current_deployment().config
    return verify_key(token, config.name, config.instance_secret)


def require_admin(headers: Mapping[str, str], action: str = "*") -> KeyClaims:
    """Claims of a valid admin key allowed to do `action`; raises AuthError otherwise."""
    creds = bearer_from_headers(headers)
    if creds is None:
        raise AuthError("Missing admin key: send 'Authorization: Convex <admin key>'")
    claims = admin_claims(creds[1])
    if claims is None:
        raise AuthError("The admin key is invalid for this deployment")
    if not claims.allows(action):
        raise AuthError(f"The key may not perform '{action}'")
    return claims
