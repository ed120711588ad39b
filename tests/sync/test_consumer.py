"""The Channels consumer end to end over the ASGI WebSocket interface (real DB, real manager)."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from contract.keys import mint_key
from dataplane.auth import Authenticator
from dataplane.sync.protocol import decode_ts
from dataplane.sync.routing import websocket_urlpatterns
from dataplane.sync.service import SCOPE_KEY, SyncService
from tests.sync.conftest import sqlite_deployment

from .pybackend import PyBackend

ROUTER = URLRouter(websocket_urlpatterns)
TIMEOUT = 10


@pytest.fixture
def service(tmp_path: Path) -> Iterator[SyncService]:
    deployment = sqlite_deployment(tmp_path, "sync-test", "secret")
    auth = Authenticator("sync-test", "secret", tmp_path, lambda: [])
    svc = SyncService(deployment.db, PyBackend(deployment.db), auth=auth)
    Client.current = svc
    try:
        yield svc
    finally:
        Client.current = None
        svc.close()
        deployment.close()


class Client:
    """A sync socket to the service the test's `service` fixture installs in the scope."""

    current: SyncService | None = None

    def __init__(self, path: str = "/api/1.48.0/sync") -> None:
        service = Client.current

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await ROUTER({**scope, SCOPE_KEY: service}, receive, send)

        self.ws = WebsocketCommunicator(app, path)

    async def open(self, session: str = "sess-1", **extra: Any) -> None:
        connected, _ = await self.ws.connect(timeout=TIMEOUT)
        assert connected
        await self.send({"type": "Connect", "sessionId": session, "connectionCount": 0, **extra})

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send_to(text_data=orjson.dumps(msg).decode())

    async def recv(self) -> dict[str, Any]:
        frame = await self.ws.receive_output(timeout=TIMEOUT)
        if frame["type"] == "websocket.close":
            return {"type": "<closed>", "code": frame.get("code")}
        return orjson.loads(frame["text"])

    async def recv_type(self, kind: str) -> dict[str, Any]:
        while True:
            msg = await self.recv()
            if msg["type"] == kind:
                return msg
            assert msg["type"] in ("Transition", "Ping"), msg

    async def close(self) -> None:
        await self.ws.disconnect()


def _add(qs: int, query_id: int, path: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "ModifyQuerySet",
        "baseVersion": qs,
        "newVersion": qs + 1,
        "modifications": [{"type": "Add", "queryId": query_id, "udfPath": path, "args": [args]}],
    }


def _mutation(request_id: int, path: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Mutation", "requestId": request_id, "udfPath": path, "args": [args]}


def test_subscribe_mutate_and_read_your_writes(service) -> None:
    async def scenario() -> None:
        c = Client()
        await c.open()
        await c.send(_add(0, 0, "messages:list", {"channel": "x"}))
        t1 = await c.recv()
        assert t1["type"] == "Transition"
        assert t1["startVersion"] == {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
        assert t1["modifications"][0]["value"] == []
        await c.send(_mutation(0, "messages.js:send", {"channel": "x", "body": "hello"}))
        latest_value = t1["modifications"][0]["value"]
        response = None
        last = t1
        while True:
            msg = await c.recv()
            if msg["type"] == "MutationResponse":
                response = msg
                assert msg["success"] is True and msg["requestId"] == 0
                assert isinstance(msg["result"], str)
                continue
            assert msg["type"] == "Transition"
            assert msg["startVersion"] == last["endVersion"]
            last = msg
            for mod in msg["modifications"]:
                latest_value = mod["value"]
            seen_ts = decode_ts(msg["endVersion"]["ts"])
            if response is not None and seen_ts >= decode_ts(response["ts"]):
                break
        assert service.backend.query_runs["messages:list"] == 2
        assert [d["body"] for d in latest_value] == ["hello"]
        await c.close()

    asyncio.run(scenario())


def test_failed_mutation_error_data_then_transition_and_action(service) -> None:
    async def scenario() -> None:
        c = Client("/api/sync")
        await c.open()
        await c.send(_mutation(0, "messages:send", {"channel": "x", "body": ""}))
        resp = await c.recv()
        assert resp == {
            "type": "MutationResponse",
            "requestId": 0,
            "success": False,
            "result": "body must not be empty",
            "ts": None,
            "logLines": ["[ERROR] empty"],
            "errorData": {"code": 42.0},
        }
        follow = await c.recv()
        assert follow["type"] == "Transition"  # the Python client waits for it
        await c.send(
            {
                "type": "Action",
                "requestId": 1,
                "udfPath": "actions:echo",
                "args": [{"n": {"$integer": "BQAAAAAAAAA="}}],
            }
        )
        action = await c.recv_type("ActionResponse")
        assert action["success"] and action["result"] == {"n": {"$integer": "BQAAAAAAAAA="}}
        await c.send({"type": "Action", "requestId": 2, "udfPath": "actions:fail", "args": [{}]})
        failed = await c.recv_type("ActionResponse")
        assert failed["success"] is False and failed["errorData"] == "plain string data"
        await c.close()

    asyncio.run(scenario())


def test_resent_mutation_runs_once_across_reconnect(service) -> None:
    backend: PyBackend = service.backend

    async def scenario() -> None:
        gate = threading.Event()
        backend.gate = gate
        first = Client()
        await first.open(session="dedup")
        await first.send(_mutation(3, "counter:bump", {}))
        await asyncio.sleep(0.1)
        await first.close()  # the mutation is still in flight
        second = Client()
        await second.open(session="dedup", connectionCount=1)
        await second.send(_mutation(3, "counter:bump", {}))
        gate.set()
        resp = await second.recv_type("MutationResponse")
        assert resp["success"] is True
        third = Client()
        await third.open(session="dedup", connectionCount=2)
        await third.send(_mutation(3, "counter:bump", {}))
        again = await third.recv_type("MutationResponse")
        assert again == resp
        await third.send(_mutation(4, "counter:bump", {}))
        assert (await third.recv_type("MutationResponse"))["ts"] != resp["ts"]
        await second.close()
        await third.close()

    asyncio.run(scenario())
    assert backend.mutation_runs == 2


def test_protocol_violations_are_fatal(service) -> None:
    async def scenario() -> None:
        c = Client()
        connected, _ = await c.ws.connect(timeout=TIMEOUT)
        assert connected
        await c.send(_add(0, 0, "counter:get", {}))
        fatal = await c.recv()
        assert fatal["type"] == "FatalError" and "Connect" in fatal["error"]
        assert (await c.recv())["type"] == "<closed>"

        c2 = Client()
        await c2.open()
        await c2.send(_add(0, 0, "counter:get", {}))
        await c2.recv_type("Transition")
        await c2.send(_add(0, 1, "counter:get", {}))  # stale baseVersion
        fatal = await c2.recv_type("FatalError")
        assert "BaseVersionMismatch" in fatal["error"]

        c3 = Client()
        await c3.open()
        await c3.ws.send_to(text_data="{nope")
        assert "not JSON" in (await c3.recv_type("FatalError"))["error"]

    asyncio.run(scenario())


def test_admin_acting_as_and_rejected_user_token(service) -> None:
    async def scenario() -> None:
        key = mint_key("sync-test", "secret")
        c = Client()
        await c.open()
        await c.send(
            {
                "type": "Authenticate",
                "tokenType": "Admin",
                "value": key,
                "baseVersion": 0,
                "impersonating": {"subject": "u1", "issuer": "iss"},
            }
        )
        await c.send(_add(0, 0, "auth:whoami", {}))
        t = await c.recv_type("Transition")
        while not t["modifications"]:
            t = await c.recv_type("Transition")
        assert t["endVersion"]["identity"] == 1
        assert t["modifications"][0]["value"] == {
            "subject": "u1",
            "issuer": "iss",
            "tokenIdentifier": "iss|u1",
        }

        bad = Client()
        await bad.open()
        await bad.send(
            {"type": "Authenticate", "tokenType": "User", "value": "x.y.z", "baseVersion": 0}
        )
        err = await bad.recv()
        assert err["type"] == "AuthError" and err["authUpdateAttempted"] is True
        # Convex's message for a token that is not a JWT, as HTTP answers it (InvalidAuthHeader)
        assert "three base64-encoded parts" in err["error"]
        assert err["baseVersion"] == 0
        assert (await bad.recv())["type"] == "<closed>"

        wrong = Client()
        await wrong.open()
        other_key = mint_key("another-deployment", "secret")
        await wrong.send(
            {"type": "Authenticate", "tokenType": "Admin", "value": other_key, "baseVersion": 0}
        )
        assert (await wrong.recv())["type"] == "AuthError"
        await c.close()

    asyncio.run(scenario())


def test_max_observed_timestamp_ahead_of_server_closes(service) -> None:
    async def scenario() -> None:
        c = Client()
        future = service.db.latest_ts() + 3600 * 10**9
        connected, _ = await c.ws.connect(timeout=TIMEOUT)
        assert connected
        await c.send(
            {
                "type": "Connect",
                "sessionId": "s",
                "connectionCount": 1,
                "maxObservedTimestamp": base64.b64encode(future.to_bytes(8, "little")).decode(),
            }
        )
        closed = await c.recv()
        assert closed == {"type": "<closed>", "code": 1011}

    asyncio.run(scenario())


def test_idle_socket_gets_pings(service, monkeypatch) -> None:
    from dataplane.sync import consumer

    monkeypatch.setattr(consumer, "PING_INTERVAL_S", 0.2)

    async def scenario() -> None:
        c = Client()
        await c.open()
        assert await c.recv() == {"type": "Ping"}
        await c.close()

    asyncio.run(scenario())


def test_same_request_id_under_another_identity_is_not_replayed(service) -> None:
    backend: PyBackend = service.backend

    async def scenario() -> None:
        anon = Client()
        await anon.open(session="shared")
        await anon.send(_mutation(0, "counter:bump", {}))
        first = await anon.recv_type("MutationResponse")
        await anon.close()
        admin = Client()
        await admin.open(session="shared", connectionCount=1)
        await admin.send(
            {
                "type": "Authenticate",
                "tokenType": "Admin",
                "value": mint_key("sync-test", "secret"),
                "baseVersion": 0,
            }
        )
        await admin.send(_mutation(0, "counter:bump", {}))
        second = await admin.recv_type("MutationResponse")
        assert second["result"] != first["result"]
        await admin.close()

    asyncio.run(scenario())
    assert backend.mutation_runs == 2


def test_token_expiry_sends_auth_error_and_closes(service, monkeypatch) -> None:
    from dataplane.auth import CLOCK_LEEWAY_S, Identity
    from dataplane.sync.consumer import SyncConsumer

    def identity_for(msg: Any) -> Identity:
        # A token that expires (leeway included) a moment from now; a later one never does.
        soon = time.time() - CLOCK_LEEWAY_S + (0.3 if msg.value == "short" else 3600)
        return Identity.for_user({"subject": "u1", "issuer": "iss"}, expires_at=soon)

    monkeypatch.setattr(SyncConsumer, "_identity_for", staticmethod(identity_for))

    async def scenario() -> None:
        c = Client()
        await c.open()
        await c.send(
            {"type": "Authenticate", "tokenType": "User", "value": "short", "baseVersion": 0}
        )
        err = await c.recv_type("AuthError")
        assert err["authUpdateAttempted"] is False
        assert err["baseVersion"] == 1 and "expired" in err["error"]
        assert (await c.recv())["type"] == "<closed>"

        refreshed = Client()
        await refreshed.open(session="sess-2")
        await refreshed.send(
            {"type": "Authenticate", "tokenType": "User", "value": "short", "baseVersion": 0}
        )
        # Re-authenticating in time with a fresh token disarms the first timer.
        await refreshed.send(
            {"type": "Authenticate", "tokenType": "User", "value": "long", "baseVersion": 1}
        )
        await refreshed.send(_add(0, 0, "auth:whoami", {}))
        await asyncio.sleep(0.8)
        t = await refreshed.recv_type("Transition")
        while not t["modifications"]:
            t = await refreshed.recv_type("Transition")
        assert t["endVersion"]["identity"] == 2
        await refreshed.close()

    asyncio.run(scenario())
