"""User JWTs (customJwt with a data: JWKS, OIDC discovery over real HTTP) and admin keys."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from contract.keys import mint_key
from dataplane.app import DeploymentApp
from dataplane.auth import (
    AuthError,
    Identity,
    JwksCache,
    identity_from_token,
)
from tests.sync.conftest import sqlite_deployment


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key: rsa.RSAPrivateKey, kid: str = "k1", **claims: object) -> str:
    now = int(time.time())
    body = {
        "iss": "https://issuer.test",
        "sub": "user-1",
        "aud": "convex",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def custom_provider(rsa_key: rsa.RSAPrivateKey) -> dict:
    jwks = {"keys": [_jwk(rsa_key, "k1")]}
    data = "data:application/json;base64," + base64.b64encode(orjson.dumps(jwks)).decode()
    return {
        "type": "customJwt",
        "issuer": "issuer.test",
        "jwks": data,
        "algorithm": "RS256",
        "applicationID": "convex",
    }


def test_custom_jwt_identity_has_convex_fields(rsa_key, custom_provider) -> None:
    token = _token(rsa_key, email="a@b.c", given_name="Ada", role="admin")
    ident = identity_from_token(token, [custom_provider], cache=JwksCache())
    assert ident.user is not None
    assert ident.user["tokenIdentifier"] == "https://issuer.test|user-1"
    assert ident.user["subject"] == "user-1"
    assert ident.user["email"] == "a@b.c"
    assert ident.user["givenName"] == "Ada"
    assert ident.user["role"] == "admin"
    assert "exp" not in ident.user and "aud" not in ident.user
    assert not ident.admin
    same = identity_from_token(token, [custom_provider], cache=JwksCache())
    assert same == ident and hash(same) == hash(ident)


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"aud": "other-app"}, "No auth provider"),
        ({"iss": "https://evil.test"}, "No auth provider"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
        ({"sub": None}, "sub"),
    ],
)
def test_bad_claims_are_rejected(rsa_key, custom_provider, claims, message) -> None:
    with pytest.raises(AuthError, match=message):
        identity_from_token(_token(rsa_key, **claims), [custom_provider], cache=JwksCache())


def test_signature_from_another_key_is_rejected(custom_provider) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuthError, match="verify"):
        identity_from_token(_token(other), [custom_provider], cache=JwksCache())


def test_unknown_kid_and_garbage_are_rejected(rsa_key, custom_provider) -> None:
    with pytest.raises(AuthError, match="kid"):
        identity_from_token(_token(rsa_key, kid="nope"), [custom_provider], cache=JwksCache())
    with pytest.raises(AuthError, match="decode"):
        identity_from_token("not-a-jwt", [custom_provider], cache=JwksCache())
    with pytest.raises(AuthError, match="no providers"):
        identity_from_token(_token(rsa_key), [], cache=JwksCache())


@pytest.fixture
def oidc_server(rsa_key: rsa.RSAPrivateKey) -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": base, "jwks_uri": base + "/jwks"}
            elif self.path == "/jwks":
                body = {"keys": [_jwk(rsa_key, "k1")]}
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = orjson.dumps(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_oidc_provider_discovers_and_caches_jwks(rsa_key, oidc_server) -> None:
    domain, hits = oidc_server
    provider = {"domain": domain, "applicationID": "convex"}
    cache = JwksCache()
    for sub in ("u1", "u2", "u3"):
        ident = identity_from_token(_token(rsa_key, iss=domain, sub=sub), [provider], cache=cache)
        assert ident.user is not None and ident.user["tokenIdentifier"] == f"{domain}|{sub}"
    assert hits == ["/.well-known/openid-configuration", "/jwks"]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[DeploymentApp]:
    dep = sqlite_deployment(tmp_path, "auth-test", "s3cret")
    try:
        yield dep
    finally:
        dep.close()


def test_admin_headers_and_acting_as(deployment: DeploymentApp) -> None:
    key = mint_key("auth-test", "s3cret")
    assert (
        deployment.auth.identity_from_headers({"Authorization": f"Convex {key}"})
        == Identity.for_admin()
    )
    attrs = base64.b64encode(orjson.dumps({"subject": "s", "issuer": "i", "name": "N"})).decode()
    ident = deployment.auth.identity_from_headers({"Authorization": f"Convex {key}:{attrs}"})
    assert ident is not None and ident.admin
    assert ident.user == {"subject": "s", "issuer": "i", "name": "N", "tokenIdentifier": "i|s"}
    other = mint_key("other-deployment", "s3cret")
    with pytest.raises(AuthError, match="invalid"):
        deployment.auth.identity_from_headers({"Authorization": f"Convex {other}"})
    with pytest.raises(AuthError, match="scheme"):
        deployment.auth.identity_from_headers({"Authorization": "Basic abc"})
    assert deployment.auth.identity_from_headers({}) is None


def test_bearer_without_deployed_auth_config_is_rejected(deployment, rsa_key) -> None:
    with pytest.raises(AuthError, match="No auth provider"):
        deployment.auth.identity_from_headers({"Authorization": f"Bearer {_token(rsa_key)}"})


# ----- Convex's error codes and messages for unacceptable tokens -----------------------------


def _signed(key: rsa.RSAPrivateKey, header: dict, **claims: object) -> str:
    now = int(time.time())
    body = {"iss": "https://issuer.test", "sub": "user-1", "aud": "convex", "iat": now}
    body.update(claims)
    body.setdefault("exp", now + 600)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm="RS256", headers=header)


def _refused(token: str, providers: list[dict]) -> AuthError:
    with pytest.raises(AuthError) as info:
        identity_from_token(token, providers, cache=JwksCache())
    return info.value


def test_unmatched_tokens_are_no_auth_provider_listing_the_providers(
    rsa_key, custom_provider
) -> None:
    """Convex answers NoAuthProvider when no provider matches iss/aud (a missing aud where the
    provider requires one included), and names the configured providers."""
    oidc = {"domain": "https://login.example", "applicationID": "web"}
    open_aud = {**custom_provider, "issuer": "https://open.test", "applicationID": None}
    providers = [custom_provider, oidc, open_aud]
    err = _refused(_token(rsa_key, iss="https://unknown.test"), providers)
    assert err.code == "NoAuthProvider"
    assert "No auth provider found matching the given token" in err.message
    assert "configured providers" in err.message
    assert "CustomJWT(issuer=issuer.test, app_id=convex)" in err.message
    assert "OIDC(domain=https://login.example, app_id=web)" in err.message
    assert "CustomJWT(issuer=https://open.test, app_id=none)" in err.message
    assert _refused(_token(rsa_key, aud=None), providers).code == "NoAuthProvider"
    assert _refused(_token(rsa_key, aud="other"), providers).code == "NoAuthProvider"
    # A provider without applicationID takes any audience, or none.
    for aud in ("anything", None):
        ident = identity_from_token(
            _token(rsa_key, iss="https://open.test", aud=aud), providers, cache=JwksCache()
        )
        assert ident.user is not None and ident.user["issuer"] == "https://open.test"


def test_unreadable_or_unverifiable_tokens_are_invalid_auth_header(
    rsa_key, custom_provider
) -> None:
    """Convex answers InvalidAuthHeader for a token it cannot parse or verify."""
    providers = [custom_provider]
    err = _refused("not.a.jwt", providers)
    assert err.code == "InvalidAuthHeader"
    assert "JWT" in err.message and "three base64-encoded parts" in err.message

    err = _refused(_token(rsa_key, iss=None), providers)
    assert err.code == "InvalidAuthHeader"
    assert "issuer" in err.message and "iss" in err.message

    # The JWKS names its keys: a token without a kid is refused, one with an unknown kid too.
    err = _refused(_signed(rsa_key, {}), providers)
    assert err.code == "InvalidAuthHeader" and "missing a 'kid'" in err.message
    err = _refused(_token(rsa_key, kid="key-2 (wrong)"), providers)
    assert err.code == "InvalidAuthHeader"
    assert "Could not decode token" in err.message and "key-2 (wrong)" in err.message

    broken = {**custom_provider, "jwks": "data:invalid,not-a-valid-jwks"}
    err = _refused(_token(rsa_key), [broken])
    assert err.code == "InvalidAuthHeader"
    assert "Invalid JWKS response body" in err.message and "not valid JSON" in err.message


def test_token_times_have_five_seconds_of_leeway(rsa_key, custom_provider) -> None:
    now = int(time.time())
    err = _refused(_token(rsa_key, iat=now - 20, exp=now - 10), [custom_provider])
    assert err.code == "InvalidAuthHeader"
    assert "Token expired" in err.message and "seconds ago" in err.message
    err = _refused(_token(rsa_key, iat=now + 10), [custom_provider])
    assert err.code == "InvalidAuthHeader" and "will be valid in" in err.message
    for claims in ({"iat": now + 3}, {"iat": None}, {"exp": now - 2}):
        ident = identity_from_token(_token(rsa_key, **claims), [custom_provider], cache=JwksCache())
        assert ident.user is not None


def test_token_without_kid_uses_a_jwks_single_unnamed_key(rsa_key, custom_provider) -> None:
    """Convex Auth's generated JWKS has one key and no kid, and its tokens carry none."""
    jwk = {k: v for k, v in _jwk(rsa_key, "unused").items() if k != "kid"}
    data = (
        "data:application/json;base64," + base64.b64encode(orjson.dumps({"keys": [jwk]})).decode()
    )
    provider = {**custom_provider, "jwks": data}
    ident = identity_from_token(_signed(rsa_key, {}), [provider], cache=JwksCache())
    assert ident.user is not None and ident.user["subject"] == "user-1"


def test_http_actions_see_a_refused_authorization_header(deployment: DeploymentApp) -> None:
    """An HTTP action runs whatever its Authorization header holds, but then
    ctx.auth.getUserIdentity() throws (no header: it returns null)."""
    auth = deployment.auth
    assert auth.identity_for_http_action({}) is None
    for header in ("Bearer helloworld", "a"):
        ident = auth.identity_for_http_action({"Authorization": header})
        assert ident is not None and ident.user is None and not ident.admin
        assert ident.auth_error
    key = mint_key("auth-test", "s3cret")
    admin = auth.identity_for_http_action({"Authorization": f"Convex {key}"})
    assert admin == Identity.for_admin() and admin.auth_error is None
