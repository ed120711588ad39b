"""Function handles through the official CLI deploy and the PyPI client: handles created and
stored by one function, then used by ctx.run* and ctx.scheduler (which really runs the job)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from convex.http_client import ConvexExecutionError, ConvexHttpClient

from .conftest import ConvexCli, Server, copy_app

pytestmark = pytest.mark.slow


def test_function_handles_after_cli_deploy(dataplane_server: Server, tmp_path: Path) -> None:
    cli = ConvexCli(dataplane_server, copy_app("handles_app", tmp_path / "work"))
    cli.deploy()
    client = ConvexHttpClient(dataplane_server.url)
    handles = client.mutation("handles:saveHandles", {})
    assert handles["record"] == "function://handles:record"
    out = client.action("handles:useStored", {})
    assert out["doubled"] == 42
    assert out["tags"] == ["from-action"]
    tags_handle = handles["tags"]
    deadline = time.monotonic() + 60
    tags: list[str] = []
    while time.monotonic() < deadline:  # the scheduler runs the job it got by handle
        tags = client.action("handles:queryHandle", {"handle": tags_handle})
        if "scheduled-by-action" in tags:
            break
        time.sleep(0.3)
    assert tags == ["from-action", "scheduled-by-action"]
    with pytest.raises(ConvexExecutionError, match="does not name a deployed function"):
        client.action("handles:queryHandle", {"handle": "function://handles:nothing"})
    # ctx.auth.signJwt tokens verify against the deployment's /.well-known/jwks.json.
    sign_args: dict[str, Any] = {"claims": {"aud": "app"}, "expiresInSeconds": 60.0}
    token = client.mutation("tokens:sign", sign_args)
    keys = httpx.get(f"{dataplane_server.url}/.well-known/jwks.json", timeout=30).json()
    key = jwt.PyJWK(keys["keys"][0])
    claims = jwt.decode(token, key=key, algorithms=["ES256"], audience="app")
    assert claims["iss"] == dataplane_server.url
