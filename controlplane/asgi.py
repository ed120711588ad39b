"""ASGI entry point of the control plane (served by daphne).

Requests for `<deployment>.<base domain>` are proxied to that deployment (HTTP and WebSocket)
by the provisioning gateway; everything else is the Django control plane.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from controlplane.provisioning.drivers import get_driver  # noqa: E402
from controlplane.provisioning.gateway import HostGateway  # noqa: E402
from controlplane.provisioning.suspend import get_suspender  # noqa: E402


async def _control_plane(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":  # the control plane itself serves no WebSockets
        await receive()
        await send({"type": "websocket.close", "code": 4404})
        return
    await django_application(scope, receive, send)


def _resolve(name: str) -> str | None:
    return get_driver().upstream(name)


application = HostGateway(
    _control_plane, base_domain=settings.BASE_DOMAIN, resolve=_resolve, waker=get_suspender()
)
