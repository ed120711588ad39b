"""The official PyPI `convex` clients (WebSocket and HTTP), unmodified, against a live server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pytest
from convex import ConvexClient, ConvexError, ConvexInt64
from convex.http_client import ConvexHttpClient
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sync.live import JWT_ISSUER, LiveApp, auth_config_for, deploy_sync_app, user_token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, signing_key) -> Iterator[LiveApp]:
    root = tmp_path_factory.mktemp("py-clients")
    app = deploy_sync_app(root, auth_config=auth_config_for(signing_key))
    try:
        yield app
    finally:
        app.server.stop()


def _token(key: rsa.RSAPrivateKey, sub: str) -> str:
    return user_token(key, sub)


def test_subscription_updates_after_another_clients_mutation(live: LiveApp) -> None:
    # Sequential on purpose: the Rust client blocks in next() holding the GIL, so iterating
    # on another thread while this one calls the client can deadlock the test process.
    watcher, writer = ConvexClient(live.url), ConvexClient(live.url)
    sub = watcher.subscribe("messages:list", {"channel": "py"})
    assert next(sub) == []
    writer.mutation("messages:send", {"channel": "py", "body": "first"})
    assert [r["body"] for r in next(sub)] == ["first"]
    writer.mutation("messages:send", {"channel": "py", "body": "second"})
    assert [r["body"] for r in next(sub)] == ["first", "second"]
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
    assert me["tokenIdentifier"] == f"{JWT_ISSUER}|alice"
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
        announced = []  # system commits (e.g. creating a table) may come first
        deadline = time.monotonic() + 10
        while not any("messages" in a["t"] for a in announced) and time.monotonic() < deadline:
            message = listener.get_message(timeout=1)
            if message and message["type"] == "message":
                announced.append(orjson.loads(message["data"]))
        assert any("messages" in a["t"] for a in announced), announced
    finally:
        listener.close()
        app.server.stop()
