"""A revoked admin/deploy key loses its rights on sockets that are already open.

Against a served deployment: a sync WebSocket authenticates with a deploy key and runs a
mutation; the control plane's revocation writer then revokes the key. The socket must be told
(Convex's AuthError) and closed within the stated bound (dataplane/sync/revocation.py), while
a session of another key stays usable.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from contract.keys import mint_key
from contract.revocation import write_revoked_keys
from tests.sync.live import LiveApp, deploy_sync_app

# The stated bound is dataplane.sync.revocation.CHECK_INTERVAL_S (1 s); this only limits how
# long a broken build makes the test wait.
WAIT_S = 30.0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = deploy_sync_app(tmp_path_factory.mktemp("revocation"))
    try:
        yield app
    finally:
        app.server.stop()


class Socket:
    """A raw sync socket authenticated with an admin key (base_url: http://host:port)."""

    def __init__(self, stack: ExitStack, base_url: str, key: str) -> None:
        url = base_url.replace("http://", "ws://") + "/api/1.48.0/sync"
        self.ws: ClientConnection = stack.enter_context(connect(url, open_timeout=10))
        self.next_id = 0
        self.send({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
        self.send({"type": "Authenticate", "tokenType": "Admin", "value": key, "baseVersion": 0})

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def recv(self, timeout: float = WAIT_S) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.ws.recv(timeout=timeout))
        return message

    def mutation(self, body: str) -> dict[str, Any]:
        self.next_id += 1
        self.send(
            {
                "type": "Mutation",
                "requestId": self.next_id,
                "udfPath": "messages:send",
                "args": [{"channel": "revocation", "body": body}],
            }
        )
        while True:
            message = self.recv()
            if message["type"] in ("MutationResponse", "AuthError", "FatalError"):
                return message


def _secret(app: LiveApp) -> str:
    return app.server.env["STRATA_DP_INSTANCE_SECRET"]


def test_revoked_key_loses_its_open_socket(live: LiveApp) -> None:
    with ExitStack() as stack:
        _revoke_while_connected(stack, live)


def _revoke_while_connected(stack: ExitStack, live: LiveApp) -> None:
    secret = _secret(live)
    revoked_key = mint_key(live.server.name, secret, key_id="ci-deploy-key")
    other_key = mint_key(live.server.name, secret, key_id="dashboard-key")
    doomed, kept = Socket(stack, live.url, revoked_key), Socket(stack, live.url, other_key)
    assert doomed.mutation("before")["success"] is True
    assert kept.mutation("kept before")["success"] is True

    # What the control plane does on revocation (LocalDriver.publish_revoked_keys).
    write_revoked_keys(live.server.data_dir, secret, ["ci-deploy-key"])

    deadline = time.monotonic() + WAIT_S
    seen: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed):
        while time.monotonic() < deadline:
            seen.append(doomed.recv(timeout=deadline - time.monotonic()))
    errors = [m for m in seen if m["type"] == "AuthError"]
    assert errors and "revoked" in errors[0]["error"], seen
    assert doomed.ws.close_code == 1000

    # The other key's session kept its rights; the revoked key cannot come back.
    assert kept.mutation("kept after")["success"] is True
    again = Socket(stack, live.url, revoked_key)
    assert again.recv()["type"] == "AuthError"
    listed = httpx.post(
        f"{live.url}/api/query",
        json={"path": "messages:list", "args": {"channel": "revocation"}, "format": "json"},
        timeout=30,
    ).json()["value"]
    assert [m["body"] for m in listed] == ["before", "kept before", "kept after"]
