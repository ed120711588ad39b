"""Console routes, included at the site root by controlplane.urls."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="console"),
    path("console-assets/<path:path>", views.asset, name="console-asset"),
]
