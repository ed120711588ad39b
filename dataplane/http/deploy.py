"""Deploy endpoints the official Convex CLI calls (`npx convex deploy` / `dev`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from dataplane.deploy import store
from dataplane.deploy.errors import DeployError
from dataplane.deploy.push import schema_timeout_s
from dataplane.http.web import (
    api_view,
    app_of,
    check_admin,
    in_thread,
    json_response,
    poll_until,
    read_json,
)
from dataplane.transactions import Database


async def _admin_body(request: HttpRequest) -> dict[str, Any]:
    body = read_json(request)
    if not isinstance(body, dict):
        raise DeployError("Expected a JSON object body")
    check_admin(request, body, "deploy")
    return body


def _config_hashes(db: Database) -> dict[str, Any]:
    if store.CONFIG_TABLE not in db.table_names():
        return {
            "config": {"functions": "convex/", "authInfo": []},
            "moduleHashes": [],
            "nodeDependencies": [],
            "udfServerVersion": None,
            "nodeVersion": None,
        }
    txn = db.begin()
    config = store.load_config(txn)
    rows = store.module_rows(txn)
    return {
        "config": {
            "functions": config.functions if config else "convex/",
            "authInfo": config.auth_info if config else [],
        },
        "moduleHashes": [
            {"path": r["path"], "hash": r["sha256"], "environment": r["env"]}
            for r in rows
            if r["path"] != "schema.js"
        ],
        "nodeDependencies": config.node_dependencies if config else [],
        "udfServerVersion": config.udf_server_version if config else None,
        "nodeVersion": config.node_version if config else None,
    }


@api_view("POST")
async def get_config_hashes(request: HttpRequest) -> HttpResponse:
    await _admin_body(request)
    return json_response(await in_thread(request, _config_hashes, app_of(request).db))


@api_view("POST")
async def evaluate_schema(request: HttpRequest) -> HttpResponse:
    """Document counts and index changes the CLI checks before pushing (large deletions...)."""
    body = await _admin_body(request)
    manager = app_of(request).pushes
    return json_response(await in_thread(request, manager.evaluate_schema, body))


@api_view("POST")
async def evaluate_push(request: HttpRequest) -> HttpResponse:
    """The index changes a push would make, without keeping anything."""
    body = await _admin_body(request)
    manager = app_of(request).pushes
    response = await in_thread(request, manager.start_push, {**body, "dryRun": True}, park=False)
    return json_response({"schemaChange": response["schemaChange"]})


@api_view("POST")
async def start_push(request: HttpRequest) -> HttpResponse:
    body = await _admin_body(request)
    manager = app_of(request).pushes
    return json_response(await in_thread(request, manager.start_push, body))


@api_view("POST")
async def wait_for_schema(request: HttpRequest) -> HttpResponse:
    body = await _admin_body(request)
    manager = app_of(request).pushes
    pending = await in_thread(request, manager.begin_schema_check, body)
    await poll_until(pending.status.done.is_set, schema_timeout_s(body))
    return json_response(await in_thread(request, manager.schema_status, pending))


@api_view("POST")
async def finish_push(request: HttpRequest) -> HttpResponse:
    body = await _admin_body(request)
    manager = app_of(request).pushes
    return json_response(await in_thread(request, manager.finish_push, body))


@api_view("POST")
async def report_push_completed(request: HttpRequest) -> HttpResponse:
    await _admin_body(request)
    return json_response({})


urlpatterns = [
    path("api/get_config_hashes", get_config_hashes),
    path("api/deploy2/evaluate_schema", evaluate_schema),
    path("api/deploy2/evaluate_push", evaluate_push),
    path("api/deploy2/start_push", start_push),
    path("api/deploy2/wait_for_schema", wait_for_schema),
    path("api/deploy2/finish_push", finish_push),
    path("api/deploy2/report_push_completed", report_push_completed),
]
