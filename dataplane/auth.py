"""Who is calling: admin keys (CLI, dashboard, control plane), acting-as, and end-user JWTs.

User JWTs are checked against the providers of the deployed `auth.config.js` (OIDC
`{domain, applicationID}` or `{type: "customJwt", issuer, jwks, algorithm, applicationID}`),
with each JWKS fetched once and cached, as Convex does.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
import orjson

from contract.keys import KeyClaims, verify_key
from contract.revocation import RevokedKeys

CLOCK_LEEWAY_S = 5
JWKS_TTL_S = 300.0
JWKS_MIN_REFRESH_S = 10.0
FETCH_TIMEOUT_S = 10.0
ALLOWED_ALGORITHMS = ("RS256", "ES256")

# OIDC standard claims -> the camelCase names of Convex's UserIdentity.
_STANDARD_CLAIMS = {
    "name": "name",
    "given_name": "givenName",
    "family_name": "familyName",
    "nickname": "nickname",
    "preferred_username": "preferredUsername",
    "profile": "profileUrl",
    "picture": "pictureUrl",
    "email": "email",
    "email_verified": "emailVerified",
    "gender": "gender",
    "birthdate": "birthday",
    "zoneinfo": "timezone",
    "locale": "language",
    "phone_number": "phoneNumber",
    "phone_number_verified": "phoneNumberVerified",
    "address": "address",
    "updated_at": "updatedAt",
}
_REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti"})


class AuthError(Exception):
    """The request's credentials were present but unacceptable.

    `code` is the error code Convex answers with: `InvalidAuthHeader` (the token cannot be
    parsed or verified), `NoAuthProvider` (no provider of auth.config.ts matches its `iss`
    and `aud`), `Unauthenticated` (admin keys and the rest).
    """

    def __init__(self, message: str, code: str = "Unauthenticated") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _invalid(message: str) -> AuthError:
    return AuthError(message, "InvalidAuthHeader")


class InvalidJsonBody(AuthError):
    """A fetched document (JWKS, OpenID configuration) is not JSON."""


# ----- identities ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """A caller: an admin (maybe acting as a user) or a user proven by a JWT.

    `user` is what `ctx.auth.getUserIdentity()` returns (None for a bare admin). `key` is a
    stable string identifying the identity, so equal identities can share query executions.
    """

    key: str
    user: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    admin: bool = False
    # The token's `exp` (seconds since the epoch): sync sockets report expiry as AuthError.
    expires_at: float | None = field(default=None, compare=False, hash=False)
    # Set for an HTTP action whose Authorization header is not acceptable: the request still
    # runs (the route reads the header itself) but `ctx.auth.getUserIdentity()` throws this.
    auth_error: str | None = field(default=None, compare=False, hash=False)
    # The id of the admin/deploy key behind an admin identity: sync sessions lose it when
    # the key is revoked (dataplane/sync/revocation.py).
    key_id: str | None = field(default=None, compare=False, hash=False)

    @classmethod
    def for_user(
        cls, user: Mapping[str, Any], *, admin: bool = False, expires_at: float | None = None
    ) -> Identity:
        prefix = "admin-as:" if admin else "user:"
        body = orjson.dumps(dict(user), option=orjson.OPT_SORT_KEYS).decode()
        return cls(prefix + body, dict(user), admin, expires_at)

    @classmethod
    def for_admin(cls, acting_as: Mapping[str, Any] | None = None) -> Identity:
        if acting_as is not None:
            return cls.for_user(acting_as, admin=True)
        return cls("admin", None, True)

    @classmethod
    def rejected(cls, error: AuthError) -> Identity:
        """No identity, because the credentials sent were refused with `error`."""
        return cls("rejected", None, False, auth_error=error.message)

    @property
    def token_identifier(self) -> str | None:
        return None if self.user is None else str(self.user.get("tokenIdentifier"))


def acting_as_identity(attributes: Any) -> Identity:
    """An admin identity impersonating the given UserIdentity attributes."""
    if not isinstance(attributes, dict):
        raise AuthError("Acting-as attributes must be a JSON object of user identity fields")
    user = {k: v for k, v in attributes.items() if v is not None}
    subject = user.get("subject")
    issuer = user.get("issuer")
    user.setdefault("tokenIdentifier", f"{issuer}|{subject}")
    return Identity.for_admin(user)


# ----- admin keys ------------------------------------------------------------------------


def bearer_from_headers(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(scheme, token) from an Authorization header such as `Convex <key>` or `Bearer <jwt>`."""
    raw = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, token = raw.strip().partition(" ")
    if not token:
        return None
    return scheme.lower(), token.strip()


# ----- user JWTs -------------------------------------------------------------------------


class JwksCache:
    """JWKS documents by URL (OIDC discovery resolved), refreshed after a TTL or unknown kid."""

    def __init__(self, fetch: Callable[[str], Any] | None = None) -> None:
        self._fetch = fetch or fetch_json
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._discovery: dict[str, str] = {}

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()
            self._discovery.clear()

    def jwks_uri_for_domain(self, domain: str) -> str:
        with self._lock:
            known = self._discovery.get(domain)
        if known is not None:
            return known
        url = domain.rstrip("/") + "/.well-known/openid-configuration"
        try:
            doc = self._fetch(url)
        except InvalidJsonBody as exc:
            raise _invalid(
                f"Invalid OpenID configuration response body from {url}: not valid JSON ({exc})"
            ) from exc
        except AuthError as exc:
            raise _invalid(exc.message) from exc
        uri = doc.get("jwks_uri") if isinstance(doc, dict) else None
        if not isinstance(uri, str):
            raise _invalid(f"OpenID configuration at {url} has no jwks_uri")
        with self._lock:
            self._discovery[domain] = uri
        return uri

    def key_for(self, url: str, kid: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        with self._lock:
            cached = self._sets.get(url)
        if cached is None or now - cached[0] > JWKS_TTL_S:
            cached = self._refresh(url, now)
        key = _pick_key(cached[1], kid)
        if key is None and now - cached[0] > JWKS_MIN_REFRESH_S:
            key = _pick_key(self._refresh(url, now)[1], kid)
        if key is None and kid is None:
            raise _invalid(
                "The token's header is missing a 'kid' (key id), which is needed to choose its "
                f"key from the JWKS at {_short(url)} (only a JWKS of one key without a kid "
                "can verify tokens without one)"
            )
        if key is None:
            raise _invalid(
                f"Could not decode token: the token's 'kid' header is {kid!r}, and the JWKS at "
                f"{_short(url)} has no key with that kid"
            )
        return key

    def _refresh(self, url: str, now: float) -> tuple[float, jwt.PyJWKSet]:
        try:
            keyset = jwt.PyJWKSet.from_dict(self._fetch(url))
        except InvalidJsonBody as exc:
            raise _invalid(
                f"Invalid JWKS response body from {_short(url)}: not valid JSON ({exc})"
            ) from exc
        except AuthError as exc:
            raise _invalid(f"Could not fetch the JWKS: {exc.message}") from exc
        except (jwt.PyJWTError, AttributeError, TypeError) as exc:
            raise _invalid(f"Invalid JWKS at {_short(url)}: {exc}") from exc
        entry = (now, keyset)
        with self._lock:
            self._sets[url] = entry
        return entry


def _short(url: str) -> str:
    return url if len(url) <= 80 else url[:77] + "..."


def _pick_key(keyset: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    """The key `kid` names. A token without a kid can only be checked against a JWKS whose
    single key has no kid either (as Convex Auth's generated JWKS); a JWKS that names its keys
    needs the token to name one."""
    if kid is None:
        unnamed = [key for key in keyset.keys if key.key_id is None]
        return unnamed[0] if len(keyset.keys) == 1 and unnamed else None
    for key in keyset.keys:
        if key.key_id == kid:
            return key
    return None


def _json_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJsonBody(str(exc)) from exc


def fetch_json(url: str, get: Callable[[str], bytes] | None = None) -> Any:
    """GET a JSON document; `data:` URLs (allowed for customJwt jwks) are decoded inline.
    InvalidJsonBody if it is not JSON, AuthError if it cannot be fetched. `get` fetches the
    body of an http(s) URL (a deployment passes one that keeps to its egress rule)."""
    if url.startswith("data:"):
        meta, _, payload = url[5:].partition(",")
        try:
            raw = (
                base64.b64decode(payload)
                if meta.endswith(";base64")
                else urllib.parse.unquote(payload).encode()
            )
        except ValueError as exc:
            raise InvalidJsonBody(f"the data: URL's payload is not base64: {exc}") from exc
        return _json_body(raw)
    try:
        if get is not None:
            body = get(url)
        else:
            response = httpx.get(url, timeout=FETCH_TIMEOUT_S, follow_redirects=True)
            response.raise_for_status()
            body = response.content
    except Exception as exc:  # an HTTP error, or the egress rule refusing the address
        raise AuthError(
            f"Could not fetch the URL {_short(url)} ({exc}); check that it is accessible "
            "from the deployment"
        ) from exc
    return _json_body(body)


class LocalDocuments(Protocol):
    """Documents this deployment serves itself (see own_site.py), fetched without a network
    round trip: the thread waiting for an answer may be the one that has to serve it."""

    def serves(self, url: str) -> bool: ...

    def fetch(self, url: str) -> bytes: ...


def fetch_json_via(
    local: LocalDocuments, get: Callable[[str], bytes] | None = None
) -> Callable[[str], Any]:
    """fetch_json, with URLs the deployment serves itself answered in-process."""

    def fetch(url: str) -> Any:
        if not local.serves(url):
            return fetch_json(url, get)
        try:
            raw = local.fetch(url)
        except ValueError as exc:
            raise AuthError(f"Could not fetch {_short(url)}: {exc}") from exc
        return _json_body(raw)

    return fetch


def _normalize_issuer(issuer: str) -> str:
    issuer = issuer.rstrip("/")
    if "://" not in issuer:
        issuer = "https://" + issuer
    return issuer


def _audiences(claims: Mapping[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if aud is None:
        return []
    return [aud] if isinstance(aud, str) else [str(a) for a in aud]


def _matching_provider(
    providers: list[dict[str, Any]], claims: Mapping[str, Any]
) -> dict[str, Any] | None:
    iss = claims.get("iss")
    if not isinstance(iss, str):
        return None
    audiences = _audiences(claims)
    for provider in providers:
        if provider.get("type") == "customJwt":
            issuer = provider.get("issuer")
            if not isinstance(issuer, str) or _normalize_issuer(issuer) != _normalize_issuer(iss):
                continue
        else:
            domain = provider.get("domain")
            if not isinstance(domain, str) or domain.rstrip("/") != iss.rstrip("/"):
                continue
        app_id = provider.get("applicationID")
        if app_id is not None and app_id not in audiences:
            continue
        return provider
    return None


def user_identity_from_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Convex's UserIdentity: tokenIdentifier, subject, issuer, standard and custom claims."""
    user: dict[str, Any] = {
        "tokenIdentifier": f"{claims['iss']}|{claims['sub']}",
        "subject": claims["sub"],
        "issuer": claims["iss"],
    }
    for name, value in claims.items():
        if name in _REGISTERED_CLAIMS or value is None:
            continue
        user[_STANDARD_CLAIMS.get(name, name)] = value
    return user


def _describe_provider(provider: Mapping[str, Any]) -> str:
    app_id = provider.get("applicationID") or "none"
    if provider.get("type") == "customJwt":
        return f"CustomJWT(issuer={provider.get('issuer')}, app_id={app_id})"
    return f"OIDC(domain={provider.get('domain')}, app_id={app_id})"


def _seconds(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"The token's '{name}' claim must be a number of seconds, got {value!r}")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    """exp, iat and nbf with CLOCK_LEEWAY_S of tolerance, reported in seconds as Convex does."""
    exp = _seconds(claims, "exp")
    if exp is not None and now > exp + CLOCK_LEEWAY_S:
        raise _invalid(f"Token expired {int(now - exp)} seconds ago")
    for name in ("iat", "nbf"):
        start = _seconds(claims, name)
        if start is not None and start > now + CLOCK_LEEWAY_S:
            raise _invalid(
                f"Token used before it is valid ('{name}' is in the future): it will be valid "
                f"in {math.ceil(start - now)} seconds"
            )


def identity_from_token(
    token: str, providers: list[dict[str, Any]], *, cache: JwksCache
) -> Identity:
    """Verify a user JWT against the deployed auth providers; raises AuthError if unacceptable
    (with Convex's codes: InvalidAuthHeader for an unreadable or unverifiable token,
    NoAuthProvider when no provider matches its issuer and audience)."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _invalid(
            f"Could not decode token: it is not a valid JWT ({exc}). A JWT has three "
            "base64-encoded parts (header, payload, signature) separated by '.'"
        ) from exc
    if not isinstance(unverified.get("iss"), str):
        raise _invalid("The token has no issuer: its 'iss' claim is missing or not a string")
    if not providers:
        raise AuthError(
            "No auth provider found matching the given token: no providers are configured "
            "in auth.config.ts",
            "NoAuthProvider",
        )
    provider = _matching_provider(providers, unverified)
    if provider is None:
        configured = ", ".join(_describe_provider(p) for p in providers)
        raise AuthError(
            "No auth provider found matching the given token (iss "
            f"{unverified.get('iss')!r}, aud {unverified.get('aud')!r}). Check that a provider "
            f"in auth.config.ts has this issuer and applicationID; configured providers: "
            f"{configured}",
            "NoAuthProvider",
        )
    if provider.get("type") == "customJwt":
        jwks_url = str(provider.get("jwks"))
        algorithms = [str(provider.get("algorithm") or "RS256")]
    else:
        jwks_url = cache.jwks_uri_for_domain(str(provider["domain"]))
        algorithms = list(ALLOWED_ALGORITHMS)
    if header.get("alg") not in algorithms:
        raise _invalid(f"Token algorithm {header.get('alg')!r} is not one of {algorithms}")
    kid = header.get("kid")
    key = cache.key_for(jwks_url, kid if isinstance(kid, str) else None)
    app_id = provider.get("applicationID")
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=algorithms,
            audience=app_id,
            options={
                "require": ["iss", "sub"],
                "verify_aud": app_id is not None,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.MissingRequiredClaimError as exc:
        raise _invalid(f"The token is missing the '{exc.claim}' claim") from exc
    except jwt.PyJWTError as exc:
        raise _invalid(f"Could not verify token: {exc}") from exc
    _check_times(claims, time.time())
    expires_at = _seconds(claims, "exp")
    return Identity.for_user(user_identity_from_claims(claims), expires_at=expires_at)


# ----- one deployment's authenticator -----------------------------------------------------


class Authenticator:
    """Checks admin/deploy keys and user JWTs for one deployment.

    `providers` returns the active push's auth providers (auth.config.ts); the JWKS cache
    belongs to this deployment alone.
    """

    def __init__(
        self,
        name: str,
        instance_secret: str,
        revocation_dir: Path,
        providers: Callable[[], list[dict[str, Any]]],
        jwks: JwksCache | None = None,
    ) -> None:
        self.name = name
        self.instance_secret = instance_secret
        # The control plane writes revoked key ids there (on Kubernetes: a mounted ConfigMap).
        self.revoked = RevokedKeys(revocation_dir, instance_secret)
        self.providers = providers
        self.jwks = jwks or JwksCache()

    def admin_claims(self, token: str) -> KeyClaims | None:
        """The claims of an admin/deploy key minted for this deployment, or None."""
        claims = verify_key(token, self.name, self.instance_secret)
        if claims is not None and self.revoked.is_revoked(claims.key_id):
            return None
        return claims

    def require_admin(self, headers: Mapping[str, str], action: str = "*") -> KeyClaims:
        """Claims of a valid admin key allowed to do `action`; raises AuthError otherwise."""
        creds = bearer_from_headers(headers)
        if creds is None:
            raise AuthError("Missing admin key: send 'Authorization: Convex <admin key>'")
        claims = self.admin_claims(creds[1])
        if claims is None:
            raise AuthError("The admin key is invalid for this deployment")
        if not claims.allows(action):
            raise AuthError(f"The key may not perform '{action}'")
        return claims

    def admin_identity(self, admin_key: str, acting_as: Any = None) -> Identity:
        """The identity of an admin key (optionally acting as a user); raises AuthError."""
        claims = self.admin_claims(admin_key)
        if claims is None:
            raise AuthError("The admin key is invalid for this deployment")
        identity = Identity.for_admin() if acting_as is None else acting_as_identity(acting_as)
        return dataclasses.replace(identity, key_id=claims.key_id)

    def key_revoked(self, key_id: str) -> bool:
        """Whether the control plane has revoked this key id (re-reads a changed file)."""
        return self.revoked.is_revoked(key_id)

    def identity_from_token(self, token: str) -> Identity:
        """A user JWT verified against the deployed auth providers."""
        return identity_from_token(token, self.providers(), cache=self.jwks)

    def identity_from_headers(self, headers: Mapping[str, str]) -> Identity | None:
        """Identity of an HTTP request: `Bearer <jwt>`, `Convex <key>[:<b64 acting-as>]`, None."""
        creds = bearer_from_headers(headers)
        if creds is None:
            return None
        scheme, token = creds
        if scheme == "bearer":
            return self.identity_from_token(token)
        if scheme == "convex":
            key, sep, encoded = token.partition(":")
            acting_as = None
            if sep:
                try:
                    acting_as = orjson.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
                except (ValueError, orjson.JSONDecodeError) as exc:
                    raise AuthError(
                        "The acting-as part of the admin key is not base64 JSON"
                    ) from exc
            return self.admin_identity(key, acting_as)
        raise AuthError(f"Unsupported Authorization scheme '{scheme}': use Bearer or Convex")

    def identity_for_http_action(self, headers: Mapping[str, str]) -> Identity | None:
        """An HTTP action runs whatever its Authorization header holds (the route may read it
        itself); a header that is not acceptable credentials makes `ctx.auth.getUserIdentity()`
        throw instead of returning null, as on Convex."""
        raw = headers.get("Authorization") or headers.get("authorization") or ""
        if not raw.strip():
            return None
        try:
            identity = self.identity_from_headers(headers)
        except AuthError as exc:
            return Identity.rejected(exc)
        if identity is None:
            return Identity.rejected(
                _invalid(
                    "The Authorization header is not 'Bearer <JWT>': could not parse it as a "
                    "JWT with three base64-encoded parts"
                )
            )
        return identity
