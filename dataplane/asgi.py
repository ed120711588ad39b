"""The ASGI application of a deployment: Django for HTTP, Channels for the sync WebSocket.

`application_for(app)` wraps the shared routers so that every request and socket carries its
DeploymentApp in the ASGI scope; a process may serve several deployments this way.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataplane.settings")

import django
from asgiref.sync import iscoroutinefunction
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_started
from django.db import close_old_connections, reset_queries
from django.urls import Resolver404, resolve

django.setup(set_prefix=False)


@functools.lru_cache(maxsize=4096)
def _async_view(path: str) -> bool:
    """Whether `path` is served by an async view (or by none: a 404)."""
    try:
        return iscoroutinefunction(resolve(path).func)
    except Resolver404:
        return True


class DataPlaneHandler(ASGIHandler):
    """Django's ASGI handler without a thread per request for async views.

    Django serves each request in its own asgiref ThreadSensitiveContext, so the request's
    first thread-sensitive sync call (every request makes one: `response.close()`) starts a
    new executor thread, which is joined by yet another thread when the request ends: a
    trivial request topped out near 200/s. Requests for async views, which is nearly all of
    the data plane's, run without that context (their `response.close()` runs on asgiref's
    one shared sync thread); the few sync views (file upload and download) keep a context
    each, so a slow transfer does not hold up the others. Relies on Django 5.2's handler
    (pinned; tests/dataplane/test_asgi_threads.py)."""

    def __init__(self) -> None:
        super().__init__()
        # The data plane has no Django databases: these receivers do nothing but cost every
        # request a hop to a sync thread (request_started is sent before any view runs).
        request_started.disconnect(reset_queries)
        request_started.disconnect(close_old_connections)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _async_view(scope["path"]):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


_http = DataPlaneHandler()

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
