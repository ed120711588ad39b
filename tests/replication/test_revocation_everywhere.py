"""A revoked key loses its open sockets on every process of a deployment (committer and
replica), not only on the one that serves the control plane's request."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from contract.keys import mint_key
from contract.revocation import write_revoked_keys
from tests.security.test_revocation_live import WAIT_S, Socket

from .conftest import Cluster

pytestmark = pytest.mark.slow


def test_revoked_key_loses_sockets_on_every_process(cluster: Cluster) -> None:
    committer, replica = cluster.servers
    secret = committer.env["STRATA_DP_INSTANCE_SECRET"]
    key = mint_key(cluster.name, secret, key_id="revoked-everywhere")
    with ExitStack() as stack:
        sockets = [Socket(stack, server.url, key) for server in (committer, replica)]
        for n, socket in enumerate(sockets):
            assert socket.mutation(f"before {n}")["success"] is True

        write_revoked_keys(committer.data_dir, secret, ["revoked-everywhere"])

        for socket in sockets:
            deadline = time.monotonic() + WAIT_S
            seen: list[dict[str, Any]] = []
            with pytest.raises(ConnectionClosed):
                while time.monotonic() < deadline:
                    seen.append(socket.recv(timeout=deadline - time.monotonic()))
            assert any(m["type"] == "AuthError" for m in seen), seen
