"""ASGI application of one deployment: Django for HTTP, Channels for the sync WebSocket."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataplane.settings")

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

http_application = get_asgi_application()

application = ProtocolTypeRouter({"http": http_application})
