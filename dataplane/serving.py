"""The Daphne server of one data-plane process, with the data plane's WebSocket limits.

Sync frames carry function arguments, so a frame may be as large as Convex's argument limit
(`RuntimeLimits.max_args_bytes`, 16 MiB) plus the frame's own JSON: a call whose arguments
fit is run, one whose arguments do not (but whose frame does) gets Convex's "too large"
error for that call. A frame over the cap is refused before it is buffered: the socket is
closed with a close frame (1009, message too big), never dropped without one.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daphne.server import Server

    from .app import DeploymentApp

#: Room for a sync frame's own fields around its arguments.
SYNC_FRAME_OVERHEAD = 1 << 20


def max_sync_message_bytes(max_args_bytes: int) -> int:
    return max_args_bytes + SYNC_FRAME_OVERHEAD


def build_server(app: DeploymentApp) -> Server:
    """A Daphne server for `app` on its configured host and port (not yet running)."""
    from daphne.access import AccessLogGenerator
    from daphne.server import Server
    from twisted.internet import reactor

    from .asgi import application_for

    config = app.config
    cap = max_sync_message_bytes(config.limits.max_args_bytes)
    server = Server(
        application=application_for(app),
        endpoints=[f"tcp:port={config.port}:interface={config.host}"],
        action_logger=AccessLogGenerator(sys.stdout),
        proxy_forwarded_address_header="X-Forwarded-For",
        proxy_forwarded_port_header="X-Forwarded-Port",
        proxy_forwarded_proto_header="X-Forwarded-Proto",
        websocket_max_message_size=cap,
        websocket_max_frame_size=cap,
    )

    def close_oversized_with_a_frame() -> None:
        # Daphne builds its WebSocket factory in run(); autobahn's default drops the TCP
        # connection on a protocol failure (the client sees 1006 and no reason).
        server.ws_factory.setProtocolOptions(failByDrop=False)

    any_reactor: Any = reactor
    any_reactor.callWhenRunning(close_oversized_with_a_frame)
    return server
