"""The ASGI application of a deployment: Django for HTTP, Channels for the sync WebSocket.

`application_for(app)` wraps the shared routers so that every request and socket carries its
DeploymentApp in the ASGI scope; a process may serve several deployments this way.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataplane.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

_http = get_asgi_application()

from contract.activity import PROBE_PATHS  # noqa: E402
from dataplane.http.web import SCOPE_KEY as APP_KEY  # noqa: E402  (needs Django set up)
from dataplane.sync import wsaccel  # noqa: E402
from dataplane.sync.routing import websocket_urlpatterns  # noqa: E402
from dataplane.sync.service import SCOPE_KEY as SYNC_KEY  # noqa: E402

if TYPE_CHECKING:
    from dataplane.app import DeploymentApp

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

wsaccel.install()
_router = ProtocolTypeRouter({"http": _http, "websocket": URLRouter(websocket_urlpatterns)})


def application_for(app: DeploymentApp) -> ASGIApp:
    """The ASGI callable serving `app` over HTTP and WebSocket; every request and socket
    but the probes' is counted in `app.activity` (what scale to zero and a drain look at)."""
    activity = app.activity

    async def application(scope: Scope, receive: Any, send: Any) -> None:
        kind = scope.get("type")
        routed = {**scope, APP_KEY: app, SYNC_KEY: app.sync}
        if kind == "websocket":
            activity.socket_opened()
            try:
                await _router(routed, receive, send)
            finally:
                activity.socket_closed()
        elif kind == "http" and scope.get("path") not in PROBE_PATHS:
            activity.request_started()
            try:
                await _router(routed, receive, send)
            finally:
                activity.request_finished()
        else:
            await _router(routed, receive, send)

    return application
