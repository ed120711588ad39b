"""Streaming export endpoints (admin/deploy key), with the shapes Convex's connectors read.

GET /api/json_schemas?deltaSchema=&format=&byComponent=
                                                 -> {table: JSON Schema}
GET /api/list_snapshot?snapshot=&cursor=&tableName=&component=&format=
                                                 -> {values, snapshot, cursor, hasMore}
GET /api/document_deltas?cursor=&tableName=&component=&format=
                                                 -> {values, cursor, hasMore}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from ..deploy.errors import DeployError
from ..exports.streaming import StreamingError
from ..transactions import HistoryCollected
from .valueformat import format_value
from .web import api_view, app_of, check_admin, in_thread, json_response

_META = ("_ts", "_table", "_component", "_deleted")


def _int_param(request: HttpRequest, name: str, required: bool = False) -> int | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        if required:
            raise DeployError(f"Missing query parameter `{name}`", code="BadRequest")
        return None
    try:
        value = int(raw)
    except ValueError:
        raise DeployError(f"`{name}` must be an integer timestamp", code="BadRequest") from None
    if value < 0:
        raise DeployError(f"`{name}` must not be negative", code="BadRequest")
    return value


def _format(request: HttpRequest) -> str:
    return request.GET.get("format") or "json"


def _encode(values: list[dict[str, Any]], fmt: str) -> list[Any]:
    """Documents in the requested format; the metadata fields stay plain JSON numbers etc."""
    out = []
    for doc in values:
        meta = {k: doc.pop(k) for k in _META if k in doc}
        encoded = format_value(doc, fmt)
        encoded.update(meta)
        out.append(encoded)
    return out


def _run(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except HistoryCollected as exc:
        raise DeployError(str(exc), code="OutOfRetention", status=400) from exc
    except StreamingError as exc:
        raise DeployError(str(exc), code=exc.code, status=400) from exc


@api_view("GET")
async def json_schemas(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "data")
    format_value({}, _format(request))  # rejects unknown formats
    delta = (request.GET.get("deltaSchema") or "").lower() == "true"
    by_component = (request.GET.get("byComponent") or "").lower() == "true"
    streaming = app_of(request).streaming
    return json_response(
        await in_thread(request, _run, streaming.json_schemas, delta, by_component)
    )


def _component(request: HttpRequest) -> str | None:
    """The `component` selection (None: every component; "" the app alone)."""
    return request.GET.get("component")


@api_view("GET")
async def list_snapshot(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "data")
    fmt = _format(request)
    format_value({}, fmt)
    snapshot = _int_param(request, "snapshot")
    cursor = request.GET.get("cursor") or None
    table = request.GET.get("tableName") or None
    streaming = app_of(request).streaming
    page = await in_thread(
        request, _run, streaming.list_snapshot, snapshot, cursor, table, _component(request)
    )
    return json_response(
        {
            "values": _encode(page.values, fmt),
            "snapshot": page.snapshot,
            "cursor": page.cursor,
            "hasMore": page.has_more,
        }
    )


@api_view("GET")
async def document_deltas(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "data")
    fmt = _format(request)
    format_value({}, fmt)
    cursor = _int_param(request, "cursor", required=True)
    table = request.GET.get("tableName") or None
    streaming = app_of(request).streaming
    page = await in_thread(
        request, _run, streaming.document_deltas, cursor, table, _component(request)
    )
    return json_response(
        {"values": _encode(page.values, fmt), "cursor": page.cursor, "hasMore": page.has_more}
    )


urlpatterns = [
    path("api/json_schemas", json_schemas),
    path("api/list_snapshot", list_snapshot),
    path("api/document_deltas", document_deltas),
]
