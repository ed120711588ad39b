"""Admin endpoints the CLI and dashboard call: env vars, function logs, key checks, probes."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse
from django.urls import path

from dataplane.deploy import envvars, store
from dataplane.deploy.errors import DeployError
from dataplane.http.web import (
    api_view,
    app_of,
    check_admin,
    in_thread,
    json_response,
    poll_until,
    read_json,
)

LOG_POLL_SECONDS = 10.0


@api_view("POST")
async def update_environment_variables(request: HttpRequest) -> HttpResponse:
    body = read_json(request)
    check_admin(request, body, "env")
    changes = envvars.parse_changes(body)
    app = app_of(request)

    def apply() -> None:
        env = envvars.update(app.db, changes)
        app.code.env_changed(env)

    await in_thread(request, apply)
    return json_response({})


@api_view("GET", "POST")
async def list_environment_variables(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "env")
    db = app_of(request).db

    def load() -> dict[str, str]:
        if store.ENV_TABLE not in db.table_names():
            return {}
        return store.load_env(db.begin())

    return json_response({"environmentVariables": await in_thread(request, load)})


@api_view("GET")
async def stream_function_logs(request: HttpRequest) -> HttpResponse:
    """Long-poll for executions after `cursor` (0 = from the oldest kept)."""
    check_admin(request, None, "logs")
    raw = request.GET.get("cursor", "0")
    try:
        cursor = int(float(raw))
    except ValueError as e:
        raise DeployError(f"Invalid cursor {raw!r}: expected a number") from e
    stream = app_of(request).logs
    if cursor != 0:
        await poll_until(lambda: stream.head() != cursor, LOG_POLL_SECONDS, 0.2)
    entries, new_cursor = stream.since(cursor, 0)
    return json_response({"entries": entries, "newCursor": new_cursor})


@api_view("GET")
async def function_metrics(request: HttpRequest) -> HttpResponse:
    """Calls, failures and p50/p99 latency per function per minute (`?minutes=`, default 60)."""
    check_admin(request, None, "logs")
    raw = request.GET.get("minutes", "60")
    try:
        minutes = int(raw)
    except ValueError as e:
        raise DeployError(f"Invalid minutes {raw!r}: expected a whole number") from e
    if not 1 <= minutes <= 360:
        raise DeployError("minutes must be between 1 and 360")
    return json_response(app_of(request).metrics.summary(time.time() * 1000, minutes))


@api_view("GET", "POST")
async def check_admin_key(request: HttpRequest) -> HttpResponse:
    check_admin(request, None)
    return json_response({"success": True, "allowedOps": ["*"], "isReadOnly": False})


@api_view("POST")
async def echo(request: HttpRequest) -> HttpResponse:
    """The CLI's network test posts a body and expects it back."""
    return HttpResponse(
        request.body, content_type=request.headers.get("Content-Type") or "text/plain"
    )


@api_view("GET")
async def canonical_urls(request: HttpRequest) -> HttpResponse:
    """`npx convex deploy --cmd` asks where the deployment and its HTTP actions live."""
    check_admin(request, None)
    config = app_of(request).config
    return json_response({"convexCloudUrl": config.public_url, "convexSiteUrl": config.site_url})


@api_view("GET")
async def instance_version(request: HttpRequest) -> HttpResponse:
    return HttpResponse("strata-1.48.0", content_type="text/plain")


@api_view("GET")
async def root(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "This Convex deployment is running. See https://docs.convex.dev/.",
        content_type="text/plain",
    )


urlpatterns = [
    path("", root),
    path("instance_version", instance_version),
    path("echo", echo),
    path("api/update_environment_variables", update_environment_variables),
    path("api/list_environment_variables", list_environment_variables),
    path("api/stream_function_logs", stream_function_logs),
    path("api/strata/function_metrics", function_metrics),
    path("api/check_admin_key", check_admin_key),
    path("api/v1/get_canonical_urls", canonical_urls),
]
