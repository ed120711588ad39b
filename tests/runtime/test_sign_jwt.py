"""ctx.auth.signJwt: tokens signed with the deployment's derived key, verifiable with its JWKS,
with Convex's claim and lifetime rules; other deployments' keys do not verify them."""

from __future__ import annotations

import time

import jwt
import pytest

from dataplane.runtime import FunctionError, FunctionRunner
from dataplane.runtime.jwt_signing import jwks


def _verify(token: str, secret: str, issuer: str) -> dict[str, object]:
    key = jwt.PyJWK(jwks(secret)["keys"][0])
    return dict(jwt.decode(token, key=key, algorithms=["ES256"], issuer=issuer, audience="app"))


def test_sign_jwt_tokens_verify_with_the_deployment_jwks(hrunner: FunctionRunner) -> None:
    config = hrunner.signer  # type: ignore[union-attr]
    before = int(time.time())
    token = hrunner.run_mutation(
        "tokens:sign",
        {"claims": {"sub": "user-1", "aud": "app", "n": 3.0}, "expiresInSeconds": 90.0},
    ).value
    claims = _verify(token, config.instance_secret, config.issuer)
    assert jwt.get_unverified_header(token)["kid"] == jwks(config.instance_secret)["keys"][0]["kid"]
    assert claims["sub"] == "user-1" and claims["n"] == 3
    assert claims["exp"] == claims["iat"] + 90  # type: ignore[operator]
    assert claims["iat"] >= before  # type: ignore[operator]
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(token, "another-deployments-secret", config.issuer)


def test_sign_jwt_rules(hrunner: FunctionRunner) -> None:
    for claims, match in [
        ({"iss": "me"}, "'iss' is set by Convex"),
        ({"exp": 1.0}, "'exp' is set by Convex"),
        ({"CvxRole": "x"}, "reserved: 'CvxRole'"),
        ({"convex_x": 1.0}, "reserved: 'convex_x'"),
    ]:
        with pytest.raises(FunctionError, match=match):
            hrunner.run_mutation("tokens:sign", {"claims": claims, "expiresInSeconds": 60.0})
    for lifetime in (0.0, 0.5, 3601.0):
        with pytest.raises(FunctionError, match="between 1 and 3600"):
            hrunner.run_mutation("tokens:sign", {"expiresInSeconds": lifetime})
    with pytest.raises(FunctionError, match="only available in mutations"):
        hrunner.run_action("tokens:fromAction", {})


def test_managed_service_tokens_are_a_clear_error(hrunner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match=r"getServiceToken\('ai-gateway'\): Convex-managed"):
        hrunner.run_action("tokens:serviceToken", {})
