"""fetch() in actions of a served deployment: private targets need an explicit opt-in, and
every redirect hop is checked before a connection is made."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.security.redirector import Redirector, redirector
from tests.sync.live import LiveApp, deploy_sync_app

METADATA = "http://169.254.169.254/latest/meta-data/"


def _fetch(app: LiveApp, url: str) -> dict[str, Any]:
    response = httpx.post(
        f"{app.url}/api/action",
        json={"path": "messages:fetchUrl", "args": {"url": url}, "format": "json"},
        timeout=90,
    )
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """A deployment started with no STRATA_DP_FETCH_ALLOW_PRIVATE: the default."""
    app = deploy_sync_app(tmp_path_factory.mktemp("strict"))
    try:
        yield app
    finally:
        app.server.stop()


@pytest.fixture(scope="module")
def opted_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = deploy_sync_app(
        tmp_path_factory.mktemp("opted-in"), extra_env={"STRATA_DP_FETCH_ALLOW_PRIVATE": "1"}
    )
    try:
        yield app
    finally:
        app.server.stop()


@pytest.fixture(scope="module")
def private_oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, Redirector]]:
    """A deployment (default rule) whose auth.config names an OIDC provider on loopback."""
    with redirector() as provider:
        config = (
            f"export default {{ providers: [{{ domain: '{provider.base}', "
            "applicationID: 'strata-tests' }] };\n"
        )
        app = deploy_sync_app(tmp_path_factory.mktemp("private-oidc"), auth_config=config)
        try:
            yield app, provider
        finally:
            app.server.stop()


def test_private_addresses_are_refused_by_default(strict: LiveApp) -> None:
    with redirector() as target:
        out = _fetch(strict, f"{target.base}/hello")
        by_name = _fetch(strict, target.base.replace("127.0.0.1", "localhost") + "/hello")
        assert target.seen == []
    assert out["status"] == "error", out
    assert "private address 127.0.0.1 is not allowed" in out["errorMessage"]
    assert by_name["status"] == "error", by_name
    assert "is not allowed" in by_name["errorMessage"]


def test_redirect_to_metadata_address_is_refused(opted_in: LiveApp) -> None:
    with redirector() as hop:
        out = _fetch(opted_in, hop.redirect_to(METADATA))
        assert [path for path, _ in hop.seen] == [hop.redirect_to(METADATA)[len(hop.base) :]]
    assert out["status"] == "error", out
    assert "address 169.254.169.254 is not allowed" in out["errorMessage"]


def test_redirect_hops_within_the_rule_are_followed(opted_in: LiveApp) -> None:
    with redirector() as hop:
        port = hop.base.rsplit(":", 1)[1]
        out = _fetch(opted_in, hop.redirect_to(f"http://localhost:{port}/hello"))
        # The connection went to the checked address; the request kept the name.
        assert hop.seen[-1] == ("/hello", f"localhost:{port}")
    assert out["status"] == "success", out
    value = out["value"]
    assert value["status"] == 200 and value["body"] == "hello" and value["redirected"] is True


@pytest.mark.parametrize(
    ("address", "strict", "opted_in"),
    [
        ("8.8.8.8", None, None),
        ("2001:4860:4860::8888", None, None),
        ("127.0.0.1", "private", None),
        ("10.1.2.3", "private", None),
        ("100.64.0.1", "private", None),  # carrier-grade NAT: not global
        ("::1", "private", None),
        ("::ffff:7f00:1", "private", None),  # IPv4-mapped loopback, as URLs spell it
        ("64:ff9b::7f00:1", "private", None),  # NAT64 of loopback
        ("2002:7f00:1::1", "private", None),  # 6to4 of loopback
        ("169.254.169.254", "never", "never"),
        ("::ffff:a9fe:a9fe", "never", "never"),  # metadata, IPv4-mapped
        ("fe80::1", "never", "never"),
        ("0.0.0.0", "never", "never"),
    ],
)
def test_address_rule(address: str, strict: str | None, opted_in: str | None) -> None:
    from dataplane.runtime.egress import refusal

    def kind(why: str | None) -> str | None:
        return None if why is None else "private" if why.startswith("private") else "never"

    assert kind(refusal(address, False)) == strict
    assert kind(refusal(address, True)) == opted_in


def test_auth_provider_documents_keep_to_the_rule(
    private_oidc: tuple[LiveApp, Redirector],
) -> None:
    """OIDC discovery and JWKS URLs come from the tenant's auth.config: the data plane fetches
    them under the same rule as fetch() in actions."""
    app, provider = private_oidc
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": provider.base,
        "sub": "u1",
        "aud": "strata-tests",
        "iat": now,
        "exp": now + 600,
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    response = httpx.post(
        f"{app.url}/api/query",
        json={"path": "messages:whoami", "args": {}, "format": "json"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert provider.seen == []
    assert response.status_code != 200 and "is not allowed" in response.text, response.text
