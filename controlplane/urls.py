"""Top-level URL routes of the control plane."""

from django.http import HttpRequest, JsonResponse
from django.urls import path


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for supervisors and load balancers."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz),
]
