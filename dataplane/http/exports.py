"""Snapshot export/import endpoints the Convex CLI and the dashboard call (admin only).

Export: POST /api/export/request/zip?includeStorage=, progress via the `_exports` system
queries, GET /api/export/zip/<ts> streams the ZIP. Import: /api/import/start_upload,
upload_part, finish_upload (or one-shot POST /api/import), then POST /api/perform_import once
the `_system/cli/queryImport` state asks for confirmation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

from dataplane.deploy.errors import DeployError
from dataplane.exports.importer import ImportRequest
from dataplane.exports.reader import FORMATS, ImportFormatError
from dataplane.exports.state import ExportInProgress
from dataplane.http.web import api_view, app_of, check_admin, in_thread, json_response, read_json

READ_CHUNK = 1 << 20


def _invalid(exc: Exception) -> DeployError:
    return DeployError(str(exc), code="InvalidImport", status=400)


@api_view("POST")
async def request_export(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "data")
    include = request.GET.get("includeStorage", "false").lower() == "true"
    try:
        await in_thread(request, app_of(request).exports.request_export, include)
    except ExportInProgress as exc:
        raise DeployError(str(exc), code="ExportInProgress", status=400) from exc
    return json_response({})


async def _file_chunks(file_path: Path) -> AsyncIterator[bytes]:
    f = await asyncio.to_thread(file_path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, READ_CHUNK):
            yield chunk
    finally:
        f.close()


@api_view("GET")
async def download_export(request: HttpRequest, snapshot_ts: str) -> HttpResponse:
    check_admin(request, None, "data")
    found = await in_thread(request, app_of(request).exports.export_file, snapshot_ts)
    if found is None:
        raise DeployError(
            f"No completed export with timestamp {snapshot_ts}", code="ExportNotFound", status=404
        )
    file_path, start_ts = found
    response = StreamingHttpResponse(_file_chunks(file_path), content_type="application/zip")
    response["Content-Length"] = str(file_path.stat().st_size)
    response["Content-Disposition"] = f"attachment; filename=snapshot_{start_ts}.zip"
    return response


def _save_body(request: HttpRequest, target: Path) -> int:
    """Stream the request body to a file; returns its size."""
    size = 0
    with target.open("wb") as out:
        while chunk := request.read(READ_CHUNK):
            out.write(chunk)
            size += len(chunk)
    return size


@api_view("POST")
async def start_upload(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "data")
    token = await in_thread(request, app_of(request).exports.start_upload)
    return json_response({"uploadToken": token})


@api_view("POST")
async def upload_part(request: HttpRequest) -> HttpResponse:
    check_admin(request, None, "data")
    raw_number = request.GET.get("partNumber", "")
    number = int(raw_number) if raw_number.isdigit() else None
    try:
        target = app_of(request).exports.part_path(request.GET.get("uploadToken"), number)
    except ImportFormatError as exc:
        raise _invalid(exc) from exc
    size = await in_thread(request, _save_body, request, target)
    return json_response({"partNumber": number, "size": size})


def _import_args(raw: Any) -> ImportRequest:
    """The upload's import arguments (no file yet); ImportFormatError if invalid."""
    if not isinstance(raw, dict):
        raise ImportFormatError("Expected `import: {format, mode, tableName?, componentPath?}`")
    fmt, mode, table = raw.get("format"), raw.get("mode", "requireEmpty"), raw.get("tableName")
    component = raw.get("componentPath") or ""
    if not isinstance(component, str):
        raise ImportFormatError("`componentPath` must be a string")
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ImportFormatError(f"Unknown import format {fmt!r}: use one of {', '.join(FORMATS)}")
    if not isinstance(mode, str):
        raise ImportFormatError("`mode` must be a string")
    if table is not None and not isinstance(table, str):
        raise ImportFormatError("`tableName` must be a string")
    req = ImportRequest(Path(), fmt, mode, table, component)
    req.check()
    return req


@api_view("POST")
async def finish_upload(request: HttpRequest) -> HttpResponse:
    body = read_json(request)
    check_admin(request, body, "data")
    if not isinstance(body, dict):
        raise DeployError("Expected a JSON object body", code="BadJsonBody")
    jobs = app_of(request).exports
    try:
        req = _import_args(body.get("import"))
        upload = await in_thread(
            request, jobs.finish_upload, body.get("uploadToken"), body.get("partTokens")
        )
        import_id = await in_thread(request, jobs.create_import, replace(req, path=upload))
    except ImportFormatError as exc:
        raise _invalid(exc) from exc
    return json_response({"importId": import_id})


@api_view("POST")
async def one_shot_import(request: HttpRequest) -> HttpResponse:
    """POST /api/import?format=&mode=&tableName=&componentPath= with the file as the body."""
    check_admin(request, None, "data")
    jobs = app_of(request).exports
    try:
        req = _import_args(
            {
                "format": request.GET.get("format"),
                "mode": request.GET.get("mode", "requireEmpty"),
                "tableName": request.GET.get("tableName"),
                "componentPath": request.GET.get("componentPath"),
            }
        )
        upload = jobs.new_upload_file()
        await in_thread(request, _save_body, request, upload)
        import_id = await in_thread(request, jobs.create_import, replace(req, path=upload))
    except ImportFormatError as exc:
        raise _invalid(exc) from exc
    return json_response({"importId": import_id})


@api_view("POST")
async def perform_import(request: HttpRequest) -> HttpResponse:
    body = read_json(request)
    check_admin(request, body, "data")
    if not isinstance(body, dict):
        raise DeployError("Expected {importId}", code="BadJsonBody")
    try:
        await in_thread(request, app_of(request).exports.confirm_import, body.get("importId"))
    except ImportFormatError as exc:
        raise _invalid(exc) from exc
    return json_response({})


urlpatterns = [
    path("api/export/request/zip", request_export),
    path("api/export/zip/<str:snapshot_ts>", download_export),
    path("api/import/start_upload", start_upload),
    path("api/import/upload_part", upload_part),
    path("api/import/finish_upload", finish_upload),
    path("api/import", one_shot_import),
    path("api/perform_import", perform_import),
]
