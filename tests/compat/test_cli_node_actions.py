""" "use node" actions deployed by the official CLI and called through the PyPI client: Node's
crypto, ctx.runMutation back into the deployment, process.env from `convex env set`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from convex.http_client import ConvexExecutionError, ConvexHttpClient

from .conftest import ConvexCli, Server, copy_app

pytestmark = pytest.mark.slow


def test_node_actions_after_cli_deploy(dataplane_server: Server, tmp_path: Path) -> None:
    cli = ConvexCli(dataplane_server, copy_app("node_app", tmp_path / "work"))
    cli.deploy()
    cli.run("env", "set", "GREETING", "bonjour")
    client = ConvexHttpClient(dataplane_server.url)
    out = client.action("nodeActions:hashAndStore", {"text": "strata"})
    assert out["digest"] == hashlib.sha256(b"strata").hexdigest()
    assert out["count"] == 1
    assert out["greeting"] == "bonjour"
    assert client.query("store:list", {}) == [out["digest"]]
    assert client.action("store:viaNode", {"x": 4}) == 8
    assert client.action("nodeActions:readFile", {"path": str(dataplane_server.data_dir)}) == (
        "denied: ERR_ACCESS_DENIED"
    )
    with pytest.raises(ConvexExecutionError, match="Could not find public function"):
        client.action("nodeActions:double", {"x": 1})
    # A crash restarts the worker for the next call.
    with pytest.raises(ConvexExecutionError, match=r"Node\.js worker exited"):
        client.action("nodeActions:crash", {})
    assert client.action("nodeActions:hashAndStore", {"text": "again"})["count"] == 2
