"""The official PyPI `convex` clients (WebSocket and HTTP), unmodified, against a live server."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator

import jwt
import orjson
import pytest
from convex import ConvexClient, ConvexError, ConvexInt64
from convex.http_client import ConvexHttpClient
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sync.live import LiveApp, deploy_sync_app

pytestmark = pytest.mark.slow
ISSUER = "https://issuer.strata.test"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, signing_key) -> Iterator[LiveApp]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = {"keys": [{**jwk, "kid": "test-key", "alg": "RS256", "use": "sig"}]}
    data_url = (
        "data:text/plain;charset=utf-8;base64," + base64.b64encode(orjson.dumps(jwks)).decode()
    )
    auth_config = (
        "export default { providers: [{ type: 'customJwt', applicationID: 'strata-tests', "
        f"issuer: '{ISSUER}', jwks: '{data_url}', algorithm: 'RS256' }}] }};\n"
    )
    app = deploy_sync_app(tmp_path_factory.mktemp("py-clients"), auth_config=auth_config)
    try:
        yield app
    finally:
        app.server.stop()


def _token(key: rsa.RSAPrivateKey, sub: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": sub,
        "aud": "strata-tests",
        "iat": now,
        "exp": now + 600,
        "name": "Test User",
        "email": f"{sub}@example.com",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})


def test_subscription_updates_after_another_clients_mutation(live: LiveApp) -> None:
    watcher, writer = ConvexClient(live.url), ConvexClient(live.url)
    sub = watcher.subscribe("messages:list", {"channel": "py"})
    seen: list[list[str]] = []
    got_two = threading.Event()

    def watch() -> None:
        for rows in sub:
            seen.append([r["body"] for r in rows])
            if len(rows) == 2:
                got_two.set()
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    writer.mutation("messages:send", {"channel": "py", "body": "first"})
    writer.mutation("messages:send", {"channel": "py", "body": "second"})
    assert got_two.wait(30), seen
    assert seen[-1] == ["first", "second"]
    sub.unsubscribe()
    assert writer.query("messages:list", {"channel": "py"})[1]["body"] == "second"


def test_mutation_convex_error_data_and_action(live: LiveApp) -> None:
    client = ConvexClient(live.url)
    with pytest.raises(ConvexError) as info:
        client.mutation("messages:send", {"channel": "py", "body": ""})
    assert info.value.data == {"code": "EMPTY", "message": "body must not be empty"}
    echoed = client.action("messages:echo", {"value": {"n": ConvexInt64(7), "b": b"\x00\x01"}})
    assert echoed == {"n": 7, "b": b"\x00\x01"}


def test_user_jwt_identity_over_websocket_and_http(live: LiveApp, signing_key) -> None:
    client = ConvexClient(live.url)
    assert client.query("messages:whoami") is None
    client.set_auth(_token(signing_key, "alice"))
    me = client.query("messages:whoami")
    assert me["tokenIdentifier"] == f"{ISSUER}|alice"
    assert me["subject"] == "alice" and me["email"] == "alice@example.com"
    assert me["name"] == "Test User"
    http = ConvexHttpClient(live.url)
    http.set_auth(_token(signing_key, "bob"))
    assert http.query("messages:whoami")["subject"] == "bob"


def test_http_client_query_mutation_and_error(live: LiveApp) -> None:
    http = ConvexHttpClient(live.url)
    doc_id = http.mutation("messages:send", {"channel": "http", "body": "via http"})
    assert isinstance(doc_id, str)
    rows = http.query("messages:list", {"channel": "http"})
    assert [r["body"] for r in rows] == ["via http"]
    with pytest.raises(ConvexError):
        http.mutation("messages:send", {"channel": "http", "body": ""})


@pytest.mark.postgres
@pytest.mark.redis
def test_postgres_server_with_redis_commit_bus(tmp_path, postgres_url) -> None:
    import redis

    app = deploy_sync_app(
        tmp_path,
        database_url=postgres_url,
        extra_env={"STRATA_DP_REDIS_URL": "redis://127.0.0.1:6379/0"},
    )
    listener = redis.Redis.from_url("redis://127.0.0.1:6379/0").pubsub()
    listener.subscribe(f"strata:{app.server.name}:commits")
    try:
        watcher, writer = ConvexClient(app.url), ConvexClient(app.url)
        sub = watcher.subscribe("messages:count")
        assert next(sub) == 0
        writer.mutation("messages:send", {"channel": "pg", "body": "hello"})
        assert next(sub) == 1
        announced = []
        deadline = time.monotonic() + 10
        while not announced and time.monotonic() < deadline:
            message = listener.get_message(timeout=1)
            if message and message["type"] == "message":
                announced.append(orjson.loads(message["data"]))
        assert announced and "messages" in announced[0]["t"]
    finally:
        listener.close()
        app.server.stop()
