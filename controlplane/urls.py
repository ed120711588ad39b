"""Top-level URL routes of the control plane."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness probe for supervisors and load balancers."""
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API clients get the same JSON error shape for unknown URLs as for unknown objects."""
    if request.path.startswith("/v1/"):
        return JsonResponse(
            {"code": "NotFound", "message": f"No route for {request.path}"}, status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/v1/"):
        return JsonResponse(
            {"code": "InternalError", "message": "Internal server error"}, status=500
        )
    return defaults.server_error(request)


handler404 = not_found
handler500 = server_error

urlpatterns = [
    path("healthz", healthz),
    path("v1/", include("controlplane.api.urls")),
    path("", include("controlplane.console.urls")),
    path("v1/", include("controlplane.billing.urls")),
]
