"""Instance identity endpoints the Convex CLI and supervisors probe."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from dataplane.http.web import app_of


def version(request: HttpRequest) -> HttpResponse:
    """Convex clients probe `/version` to check reachability."""
    return HttpResponse("strata", content_type="text/plain")


def instance_name(request: HttpRequest) -> HttpResponse:
    return HttpResponse(app_of(request).config.name, content_type="text/plain")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "deployment": app_of(request).config.name})


urlpatterns = [
    path("version", version),
    path("instance_name", instance_name),
    path("healthz", healthz),
]
