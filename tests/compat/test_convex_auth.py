"""Convex Auth (`@convex-dev/auth` with its Password provider) on a real Strata deployment.

The app (tests/apps/auth_app) is Convex Auth's standard setup: `auth.config.ts` names the
deployment's own site URL (`process.env.CONVEX_SITE_URL`) as the token issuer, and the library
signs tokens with `JWT_PRIVATE_KEY` and serves `JWKS` from its HTTP routes. It is deployed with
the official CLI and used through the official npm clients: sign up, sign in, authenticated
queries and mutations over HTTP and over the WebSocket.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import REPO, ConvexCli, copy_app, start_server

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "compat" / "js" / "convex_auth.mjs"


def _auth_keys() -> tuple[str, str]:
    """JWT_PRIVATE_KEY and JWKS as Convex Auth's setup generates them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{"use": "sig", **jwk}]})
    return pem.strip().replace("\n", " "), jwks


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConvexCli]:
    tmp = tmp_path_factory.mktemp("convex-auth")
    server = start_server(tmp / "deployment")
    try:
        cli = ConvexCli(server, copy_app("auth_app", tmp / "work"))
        private_key, jwks = _auth_keys()
        cli.run("env", "set", "JWT_PRIVATE_KEY", "--", private_key)
        cli.run("env", "set", "JWKS", jwks)
        cli.run("env", "set", "SITE_URL", "http://localhost:5173")
        cli.deploy()
        yield cli
    finally:
        server.stop()


def test_builtin_site_url_is_the_issuer_convex_auth_configures(deployed: ConvexCli) -> None:
    # auth.config.ts read process.env.CONVEX_SITE_URL at push time: the provider is the site URL.
    site = deployed.server.url + "/http"
    config = httpx.get(f"{site}/.well-known/openid-configuration", timeout=30).json()
    assert config["issuer"] == site
    assert config["jwks_uri"] == f"{site}/.well-known/jwks.json"


def test_sign_up_sign_in_and_authenticated_calls(deployed: ConvexCli) -> None:
    proc = subprocess.run(
        ["node", str(SCRIPT), deployed.server.url, "ada@example.com", "correct horse battery"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or lines[-1] != {"ok": True}:
        raise AssertionError(
            f"convex_auth.mjs failed ({proc.returncode}):\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nserver log:\n{deployed.server.log()[-6000:]}"
        )
    site = deployed.server.url + "/http"
    signed_up, first, anonymous, wrong, signed_in, live = lines[:-1]
    assert signed_up == {"signUpTokens": ["refreshToken", "token"]}
    me = first["me"]
    assert me["email"] == "ada@example.com" and me["issuer"] == site
    # Convex Auth's subject is "<userId>|<sessionId>".
    assert me["subject"].split("|")[0] == me["userId"]
    assert first["notes"] == ["first note"]
    assert anonymous == {"anonymous": None}
    assert wrong["wrongPassword"] is not None and "InvalidSecret" in wrong["wrongPassword"]
    assert signed_in["signedInMe"]["userId"] == me["userId"]
    assert signed_in["signedInMe"]["email"] == "ada@example.com"
    assert live["liveNotes"] == ["first note"]
    assert live["liveMe"]["userId"] == me["userId"]
