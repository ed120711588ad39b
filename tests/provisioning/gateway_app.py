"""An ASGI app for the gateway test: HostGateway routing names from STRATA_TEST_UPSTREAMS."""

from __future__ import annotations

import json
import os
from typing import Any

from controlplane.provisioning.gateway import HostGateway

UPSTREAMS: dict[str, str] = json.loads(os.environ.get("STRATA_TEST_UPSTREAMS", "{}"))


async def fallback(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 4404})
        return
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b"control plane"})


application = HostGateway(fallback, base_domain="strata.test", resolve=UPSTREAMS.get)
