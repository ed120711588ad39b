"""HTTP plumbing shared by the deploy, admin and function endpoints: bodies, errors, CORS, auth.

Views are async so a long poll (wait_for_schema, stream_function_logs) never holds the single
thread Django uses for sync views; blocking work runs in worker threads via `in_thread`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gzip
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import brotli
import orjson
import structlog
from django.http import HttpRequest, HttpResponse

from ..auth import AuthError
from ..deploy.errors import DeployError
from ..transactions import DatabaseError, OccConflict
from ..values import ConvexValueError

if TYPE_CHECKING:
    from ..app import DeploymentApp

log = structlog.get_logger(__name__)
#: Where the ASGI application puts the DeploymentApp a request is for.
SCOPE_KEY = "strata.app"
T = TypeVar("T")
View = Callable[..., Awaitable[HttpResponse]]
MAX_BODY_BYTES = 64 * 1024 * 1024
CORS_METHODS = "GET, POST, OPTIONS, PATCH, DELETE, PUT"


def app_of(request: HttpRequest) -> DeploymentApp:
    """The deployment this request is for (the ASGI application put it in the scope)."""
    app: DeploymentApp = request.scope[SCOPE_KEY]
    return app


def json_response(obj: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(obj), status=status, content_type="application/json")


def error_response(code: str, message: str, status: int) -> HttpResponse:
    """Infrastructure errors as the clients parse them: `{code, message}`."""
    return json_response({"code": code, "message": message}, status)


def decode_body(request: HttpRequest) -> bytes:
    """The raw body, decompressed per Content-Encoding (the CLI brotli-compresses pushes)."""
    raw = request.body
    encoding = (request.headers.get("Content-Encoding") or "").strip().lower()
    try:
        if encoding == "br":
            raw = _brotli_bounded(raw)
        elif encoding == "gzip":
            raw = gzip.decompress(raw)
        elif encoding == "deflate":
            raw = zlib.decompress(raw)
        elif encoding not in ("", "identity"):
            raise DeployError(f"Unsupported Content-Encoding {encoding!r}")
    except (brotli.error, OSError, zlib.error) as e:
        raise DeployError(f"Request body is not valid {encoding} data: {e}") from e
    if len(raw) > MAX_BODY_BYTES:
        raise DeployError("Request body is too large", code="PayloadTooLarge", status=413)
    return raw


def _brotli_bounded(data: bytes) -> bytes:
    """Decompress brotli, refusing output over MAX_BODY_BYTES (no decompression bombs)."""
    try:
        return _brotli_chunks(data)
    except brotli.error as e:
        raise DeployError(f"Request body is not valid brotli data: {e}") from e


def _brotli_chunks(data: bytes) -> bytes:
    decompressor = brotli.Decompressor()
    chunks = [decompressor.process(data, output_buffer_limit=1 << 20)]
    total = len(chunks[0])
    if total > MAX_BODY_BYTES:
        raise DeployError("Request body is too large", code="PayloadTooLarge", status=413)
    while not decompressor.is_finished():
        chunk = decompressor.process(b"", output_buffer_limit=1 << 20)
        if not chunk and not decompressor.is_finished():
            raise DeployError("Request body is truncated brotli data")
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            raise DeployError("Request body is too large", code="PayloadTooLarge", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def read_json(request: HttpRequest, *, allow_empty: bool = False) -> Any:
    """The JSON body; a clear 400 when it is missing or malformed."""
    raw = decode_body(request)
    if not raw.strip():
        if allow_empty:
            return {}
        raise DeployError("Expected a JSON request body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise DeployError(f"Request body is not valid JSON: {e}") from e


def check_admin(request: HttpRequest, body: Any = None, action: str = "*") -> None:
    """Admin auth from the header, or the `adminKey` body field the deploy calls also carry."""
    headers: dict[str, str] = dict(request.headers)
    if bearer_missing(headers) and isinstance(body, dict) and isinstance(body.get("adminKey"), str):
        headers["Authorization"] = f"Convex {body['adminKey']}"
    if bearer_missing(headers) and request.GET.get("adminKey"):
        headers["Authorization"] = f"Convex {request.GET['adminKey']}"
    try:
        app_of(request).auth.require_admin(headers, action)
    except AuthError as e:
        raise DeployError(str(e), code="BadAdminKey", status=401) from e


def bearer_missing(headers: dict[str, str]) -> bool:
    return not (headers.get("Authorization") or headers.get("authorization"))


def add_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Mirror the caller's origin and requested headers, as Convex does."""
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = CORS_METHODS
    wanted = request.headers.get("Access-Control-Request-Headers")
    response["Access-Control-Allow-Headers"] = wanted or "*"
    response["Access-Control-Max-Age"] = "86400"
    return response


def api_view(*methods: str, preflight: bool = True) -> Callable[[View], View]:
    """Wrap an async view: method check, OPTIONS preflight, CORS, DeployError -> JSON error.

    `preflight=False` passes OPTIONS to the view and leaves CORS to it (HTTP actions).
    """
    allowed = {m.upper() for m in methods}

    def wrap(view: View) -> View:
        @functools.wraps(view)
        async def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if preflight and request.method == "OPTIONS":
                return add_cors(request, HttpResponse(status=204))
            if request.method not in allowed:
                response = error_response(
                    "MethodNotAllowed", f"{request.method} is not allowed here", 405
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return add_cors(request, response)
            try:
                response = await view(request, *args, **kwargs)
            except DeployError as e:
                response = error_response(e.code, e.message, e.status)
            except OccConflict as e:
                response = error_response("OptimisticConcurrencyControlFailure", str(e), 409)
            except (DatabaseError, ConvexValueError) as e:
                response = error_response("BadRequest", str(e), 400)
            except Exception:
                log.exception("request failed", path=request.path)
                response = error_response("InternalServerError", "Internal server error", 500)
            return add_cors(request, response) if preflight else response

        inner.csrf_exempt = True  # type: ignore[attr-defined]
        return inner

    return wrap


async def in_thread(request: HttpRequest, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (database, V8) on the deployment's HTTP worker threads, not the
    event loop.

    A dedicated pool: the loop's default one has ~cores+4 threads, which a few long actions
    would exhaust.
    """
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, fn, *args, **kwargs)
    return await loop.run_in_executor(app_of(request).http_threads, call)


async def poll_until(ready: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> None:
    """Wait without holding a thread until `ready()` (cheap, non-blocking) or the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not ready() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(interval_s)
