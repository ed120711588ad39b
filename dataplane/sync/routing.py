"""WebSocket routes: npm clients use /api/<version>/sync, the Rust/Python clients /api/sync."""

from __future__ import annotations

from django.urls import path, re_path

from .consumer import SyncConsumer

websocket_urlpatterns = [
    path("api/sync", SyncConsumer.as_asgi()),
    re_path(r"^api/(?P<version>[^/]+)/sync$", SyncConsumer.as_asgi()),
]
