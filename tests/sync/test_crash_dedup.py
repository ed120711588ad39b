"""Exactly-once mutations across a server crash (SIGKILL), against a real server process.

The first client's mutation commits; the server is killed before the client has taken its
MutationResponse (the client never reads it, as if it was lost with the process). After a
restart the client reconnects with the same session and resends the same request id, as the
official clients do: it must get the first run's result and the write must exist once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.sync.live import LiveApp, deploy_sync_app

pytestmark = pytest.mark.slow


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    app = deploy_sync_app(tmp_path)
    try:
        yield app
    finally:
        app.server.stop()


@pytest.fixture
def sockets() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


def _open(
    stack: contextlib.ExitStack, url: str, session: str, connection_count: int
) -> ClientConnection:
    ws = stack.enter_context(
        connect(url.replace("http", "ws", 1) + "/api/1.48.0/sync", max_size=None, open_timeout=30)
    )
    hello: dict[str, Any] = {
        "type": "Connect",
        "sessionId": session,
        "connectionCount": connection_count,
        "lastCloseReason": None if connection_count == 0 else "server died",
        "maxObservedTimestamp": None,
        "clientTs": 0,
    }
    ws.send(orjson.dumps(hello).decode())
    return ws


def _send(ws: ClientConnection, request_id: int, body: str) -> None:
    args = [{"channel": "crash", "body": body}]
    msg = {"type": "Mutation", "requestId": request_id, "udfPath": "messages:send", "args": args}
    ws.send(orjson.dumps(msg).decode())


def _list_until(ws: ClientConnection, done: Any) -> list[dict[str, Any]]:
    """Subscribe to messages:list(crash); return the first result satisfying `done`."""
    add = {"type": "Add", "queryId": 0, "udfPath": "messages:list", "args": [{"channel": "crash"}]}
    msg = {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}
    ws.send(orjson.dumps(msg).decode())
    while True:
        frame = orjson.loads(ws.recv(timeout=60))
        if frame["type"] != "Transition":
            continue
        for mod in frame["modifications"]:
            if mod.get("type") == "QueryUpdated" and done(mod["value"]):
                return list(mod["value"])


def _response(ws: ClientConnection, request_id: int) -> dict[str, Any]:
    while True:
        frame = orjson.loads(ws.recv(timeout=60))
        if frame["type"] == "MutationResponse" and frame["requestId"] == request_id:
            return dict(frame)


def test_mutation_committed_before_sigkill_is_not_run_again(
    live: LiveApp, sockets: contextlib.ExitStack
) -> None:
    session = str(uuid.uuid4())
    writer = _open(sockets, live.url, session, 0)
    watcher = _open(sockets, live.url, str(uuid.uuid4()), 0)
    _send(writer, 0, "once")
    committed = _list_until(watcher, lambda rows: len(rows) == 1)
    live.server.process.kill()  # SIGKILL: no shutdown, nothing flushed to the writer
    live.server.process.wait(timeout=30)
    writer.close()
    watcher.close()

    live.restart()
    writer = _open(sockets, live.url, session, 1)
    _send(writer, 0, "once")  # the official clients resend unanswered mutations like this
    replay = _response(writer, 0)
    assert replay["success"] is True, replay
    assert replay["result"] == committed[0]["_id"]
    _send(writer, 1, "second")  # a new request id in the same session does run
    assert _response(writer, 1)["success"] is True
    writer.close()

    other = _open(sockets, live.url, str(uuid.uuid4()), 0)
    other_replay_session = _open(sockets, live.url, str(uuid.uuid4()), 0)
    _send(other_replay_session, 0, "once")  # same request id, other session: a new write
    assert _response(other_replay_session, 0)["result"] != committed[0]["_id"]
    rows = _list_until(other, lambda rows: len(rows) == 3)
    assert sorted(r["body"] for r in rows) == ["once", "once", "second"]
    assert sum(1 for r in rows if r["_id"] == committed[0]["_id"]) == 1
    other.close()
    other_replay_session.close()
