"""URL routes of a deployment; each feature module contributes its own `urlpatterns`."""

from django.urls import URLPattern, URLResolver

from . import health

urlpatterns: list[URLPattern | URLResolver] = [
    *health.urlpatterns,
]
