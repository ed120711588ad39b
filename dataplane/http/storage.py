"""File upload (POST /api/storage/upload?token=...) and serving (GET /api/storage/<id>).

Uploads stream the request body into the blob store; an optional `Digest: sha-256=<b64>`
header is checked. Serving streams from the blob store with single byte-range support, so
browsers can seek in media. Both are open to any origin, as Convex's are.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from dataplane.files import (
    BlobNotFound,
    FileService,
    FileStorageError,
    UploadTokenError,
    UploadTokenExpired,
    parse_digest_header,
)
from dataplane.http.web import app_of
from dataplane.transactions import DatabaseError

UPLOAD_CHUNK = 256 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Digest, Range",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Digest, ETag",
}


def _service(request: HttpRequest) -> FileService:
    return app_of(request).files


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status)
    for k, v in _CORS.items():
        response[k] = v
    return response


def _preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    for k, v in _CORS.items():
        response[k] = v
    response["Access-Control-Max-Age"] = "86400"
    return response


def _body_chunks(request: HttpRequest) -> Iterator[bytes]:
    while chunk := request.read(UPLOAD_CHUNK):
        yield chunk


@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    """Store the request body as a new file; answers {"storageId": ...}."""
    if request.method == "OPTIONS":
        return _preflight()
    if request.method != "POST":
        return _error(405, "MethodNotAllowed", "Upload files with POST")
    try:
        expected = parse_digest_header(request.headers.get("Digest"))
        storage_id = _service(request).accept_upload(
            request.GET.get("token"),
            _body_chunks(request),
            request.headers.get("Content-Type") or None,
            expected,
        )
    except UploadTokenError as exc:
        code = (
            "StorageTokenExpired" if isinstance(exc, UploadTokenExpired) else "StorageTokenInvalid"
        )
        return _error(401, code, str(exc))
    except FileStorageError as exc:
        return _error(400, "InvalidUpload", str(exc))
    response = JsonResponse({"storageId": storage_id})
    for k, v in _CORS.items():
        response[k] = v
    return response


class RangeNotSatisfiable(ValueError):
    """The Range header starts past the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as [start, end), or None to serve the whole file."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None  # multi-range or another unit: serve the whole file (RFC 9110 allows it)
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if size == 0:
        return None  # an empty file is served whole (200, no Content-Range), as Convex does
    if not first:
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - n), size
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable(header)
    end = size if not last else min(size, int(last) + 1)
    if end <= start:
        return None
    return start, end


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Pull a blocking chunk iterator from a worker thread so large files never buffer."""
    done = object()
    while True:
        chunk: Any = await asyncio.to_thread(next, chunks, done)
        if chunk is done:
            return
        yield chunk


def serve(request: HttpRequest, storage_id: str) -> HttpResponse:
    """Stream a stored file with its content type, digest and byte-range support."""
    if request.method == "OPTIONS":
        return _preflight()
    if request.method not in ("GET", "HEAD"):
        return _error(405, "MethodNotAllowed", "Fetch files with GET")
    service = _service(request)
    try:
        head = service.stat(storage_id)
    except (FileStorageError, DatabaseError) as exc:
        return _error(400, "InvalidStorageId", str(exc))
    if head is None:
        return _error(404, "FileNotFound", f"File {storage_id} not found")
    size = head.size
    etag = f'"{head.sha256.hex()}"'
    if etag in request.headers.get("If-None-Match", ""):
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        for k, v in _CORS.items():
            not_modified[k] = v
        return not_modified
    try:
        wanted = parse_range(request.headers.get("Range"), size)
    except RangeNotSatisfiable:
        refused = _error(416, "RangeNotSatisfiable", f"The file is {size} bytes long")
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    start, end = (0, size) if wanted is None else wanted
    status = 200 if wanted is None else 206
    response: HttpResponse
    if request.method == "HEAD":
        response = HttpResponse(status=status)
    else:
        try:
            chunks = service.read(head.storage_id, start, end)
        except BlobNotFound:
            return _error(404, "FileNotFound", f"File {storage_id} not found")
        response = StreamingHttpResponse(_aiter(chunks), status=status)
    response["Content-Type"] = head.content_type or "application/octet-stream"
    response["Content-Length"] = str(end - start)
    response["Accept-Ranges"] = "bytes"
    response["Digest"] = f"sha-256={base64.b64encode(head.sha256).decode()}"
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=2592000"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    for k, v in _CORS.items():
        response[k] = v
    return response


urlpatterns = [
    path("api/storage/upload", upload),
    path("api/storage/<str:storage_id>", csrf_exempt(serve)),
]
