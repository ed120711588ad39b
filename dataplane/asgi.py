"""ASGI application of one deployment: Django for HTTP, Channels for the sync WebSocket."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataplane.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

http_application = get_asgi_application()

from dataplane.sync import wsaccel  # noqa: E402
from dataplane.sync.routing import websocket_urlpatterns  # noqa: E402  (needs Django set up)

wsaccel.install()

application = ProtocolTypeRouter(
    {"http": http_application, "websocket": URLRouter(websocket_urlpatterns)}
)
