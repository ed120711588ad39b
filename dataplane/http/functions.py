"""The HTTP function API: /api/query|mutation|action|function, /api/run/..., query_ts/at_ts/batch.

Function failures are `{status:"error", errorMessage, errorData?, logLines?}` with Convex's
status 560 (see `udf_failed_status`); request problems are 4xx `{code, message}`.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

from contract.keys import KeyClaims
from dataplane.auth import (
    AuthError,
    Identity,
    bearer_from_headers,
)
from dataplane.dashboard import SYSTEM_MUTATIONS
from dataplane.deploy.errors import DeployError
from dataplane.deploy.paths import display_path, is_system, parse_udf_path
from dataplane.http.timestamps import decode_ts, encode_ts
from dataplane.http.valueformat import format_value, parse_args
from dataplane.http.web import api_view, app_of, in_thread, json_response, read_json
from dataplane.runtime import ActionOutcome, FunctionError, MutationOutcome, QueryOutcome
from dataplane.runtime.components import module_prefix
from dataplane.runtime.errorformat import (
    STATUS_CODE_UDF_FAILED,
    SystemFailure,
    not_found_message,
    server_error,
)

if TYPE_CHECKING:
    from dataplane.app import DeploymentApp

KINDS = {"query": "Query", "mutation": "Mutation", "action": "Action"}
_COMPONENT_PATH = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*)?\Z")
MAX_BATCH = 64


@dataclass(frozen=True)
class Call:
    """One parsed function call request."""

    module: str
    name: str
    args: dict[str, Any]
    fmt: str
    identity: Identity | None
    claims: KeyClaims | None = None  # the admin key's scopes, when one was sent
    component: str = ""  # `componentPath`: run the function of that component (admins only)

    @property
    def display(self) -> str:
        return display_path(self.module, self.name)

    @property
    def function_path(self) -> str:
        """The deployment-wide path: a component's functions live under its module dir."""
        return f"{module_prefix(self.component)}{self.module}:{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.identity is not None and self.identity.admin


def _identity(request: HttpRequest) -> Identity | None:
    try:
        return app_of(request).auth.identity_from_headers(request.headers)
    except AuthError as e:
        raise DeployError(e.message, code=e.code, status=401) from e


def _claims(request: HttpRequest) -> KeyClaims | None:
    creds = bearer_from_headers(request.headers)
    if creds is None or creds[0] != "convex":
        return None
    return app_of(request).auth.admin_claims(creds[1].partition(":")[0])


def _call(
    body: Any,
    identity: Identity | None,
    default_format: str = "json",
    claims: KeyClaims | None = None,
) -> Call:
    if not isinstance(body, dict):
        raise DeployError("Expected a JSON object with `path` and `args`", code="BadJsonBody")
    module, name = parse_udf_path(body.get("path"))
    component = body.get("componentPath") or ""
    if not isinstance(component, str) or not _COMPONENT_PATH.match(component):
        raise DeployError(f"Invalid componentPath {component!r}", code="BadJsonBody")
    fmt = body.get("format") or default_format
    return Call(module, name, parse_args(body.get("args")), fmt, identity, claims, component)


def _not_found(call: Call) -> dict[str, Any]:
    kind = "function" if call.is_admin else "public function"
    return {
        "status": "error",
        "errorMessage": server_error(not_found_message(kind, call.display)),
    }


def udf_failed_status(request: HttpRequest, response: dict[str, Any]) -> int:
    """560 for a failed function, as Convex answers (the npm client treats it as a function
    error, not a transport one). The PyPI client's HTTP client raises on any 5xx before it
    reads the body, so it keeps getting the error body with 200."""
    if response.get("status") != "error":
        return 200
    if request.headers.get("Convex-Client", "").startswith("python-"):
        return 200
    return STATUS_CODE_UDF_FAILED


def run_call(
    app: DeploymentApp, call: Call, kind: str | None, ts: int | None = None
) -> dict[str, Any]:
    """Run one call and build its UdfResponse; `kind` restricts the function type (None = any)."""
    if ts is not None and ts > app.db.latest_ts():
        raise DeployError("`ts` is newer than the latest commit of this deployment")
    if is_system(call.module):
        if not call.is_admin:
            return _not_found(call)
        if (call.module, call.name) in SYSTEM_MUTATIONS:
            if kind not in (None, "mutation"):
                return _wrong_kind(call, kind, "mutation")
            value, _ = app.system.run_mutation(
                call.module, call.name, call.args, call.claims, call.component
            )
            return {"status": "success", "value": format_value(value, call.fmt)}
        if kind not in (None, "query"):
            return _wrong_kind(call, kind, "query")
        txn = app.db.begin(ts)
        value = app.system.run_query(
            txn, call.module, call.name, call.args, call.claims, call.component
        )
        return {"status": "success", "value": format_value(value, call.fmt)}
    if call.component and not call.is_admin:
        return _not_found(call)  # a component's functions are the deployment's internals
    active = app.code.current()
    info = None if active is None else active.app.function(call.function_path)
    if (
        info is None
        or info.kind == "httpAction"
        or (info.visibility == "internal" and not call.is_admin)
    ):
        return _not_found(call)
    if kind is not None and info.kind != kind:
        return _wrong_kind(call, kind, info.kind)
    runner = app.runner
    path = call.function_path
    admin = call.is_admin
    outcome: QueryOutcome | MutationOutcome | ActionOutcome
    try:
        if info.kind == "query":
            outcome = runner.run_query(path, call.args, call.identity, ts, allow_internal=admin)
        elif info.kind == "mutation":
            outcome = runner.run_mutation(path, call.args, call.identity, allow_internal=admin)
        else:
            outcome = runner.run_action(path, call.args, call.identity, allow_internal=admin)
        logs = list(outcome.logs)
        response: dict[str, Any] = {
            "status": "success",
            "value": format_value(outcome.value, call.fmt),
        }
    except SystemFailure as e:
        raise DeployError(e.detail, code=e.code, status=503) from None
    except FunctionError as e:
        logs = list(e.logs)
        response = {"status": "error", "errorMessage": server_error(e.message, e.request_id)}
        if e.has_data:
            response["errorData"] = format_value(e.data, "convex_encoded_json")
    if logs:
        response["logLines"] = [line.formatted() for line in logs]
    return response


def _wrong_kind(call: Call, wanted: str, actual: str) -> dict[str, Any]:
    return {
        "status": "error",
        "errorMessage": f"Trying to execute {call.display} as {KINDS.get(wanted, wanted)}, but "
        f"it is defined as {KINDS.get(actual, actual)}.",
    }


async def _run(
    request: HttpRequest, body: Any, kind: str | None, default_format: str
) -> dict[str, Any]:
    call = _call(body, _identity(request), default_format, _claims(request))
    app = app_of(request)
    result: dict[str, Any] = await in_thread(request, run_call, app, call, kind)
    return result


def _kind_view(kind: str | None, *methods: str) -> Any:
    @api_view(*methods)
    async def view(request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            body: Any = {
                "path": request.GET.get("path"),
                "args": _query_args(request.GET.get("args")),
                "format": request.GET.get("format"),
            }
        else:
            body = read_json(request)
        result = await _run(request, body, kind, "json")
        return json_response(result, udf_failed_status(request, result))

    return view


def _query_args(raw: str | None) -> Any:
    if raw is None:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise DeployError(f"`args` is not valid JSON: {e}", code="BadJsonBody") from e


@api_view("POST")
async def run_by_url(request: HttpRequest, function_path: str) -> HttpResponse:
    """POST /api/run/dir/module/fn: the last segment is the export, the rest the module."""
    parts = [urllib.parse.unquote(p) for p in function_path.strip("/").split("/") if p]
    if len(parts) < 2:
        raise DeployError("Expected /api/run/<module path>/<function name>")
    body = read_json(request, allow_empty=True)
    if not isinstance(body, dict):
        raise DeployError("Expected a JSON object body", code="BadJsonBody")
    call_body = {
        "path": f"{'/'.join(parts[:-1])}:{parts[-1]}",
        "args": body.get("args", {}),
        "format": body.get("format"),
    }
    result = await _run(request, call_body, None, "json")
    return json_response(result, udf_failed_status(request, result))


@api_view("POST")
async def query_ts(request: HttpRequest) -> HttpResponse:
    app = app_of(request)
    return json_response({"ts": encode_ts(app.db.latest_ts())})


@api_view("POST")
async def query_at_ts(request: HttpRequest) -> HttpResponse:
    body = read_json(request)
    if not isinstance(body, dict):
        raise DeployError("Expected a JSON object body", code="BadJsonBody")
    ts = decode_ts(body.get("ts"))
    call = _call(body, _identity(request), claims=_claims(request))
    app = app_of(request)
    result = await in_thread(request, run_call, app, call, "query", ts)
    return json_response(result, udf_failed_status(request, result))


@api_view("POST")
async def query_batch(request: HttpRequest) -> HttpResponse:
    """Several queries at one snapshot."""
    body = read_json(request)
    queries = body.get("queries") if isinstance(body, dict) else None
    if not isinstance(queries, list):
        raise DeployError('Expected {"queries": [{path, args, format}, ...]}', code="BadJsonBody")
    if len(queries) > MAX_BATCH:
        raise DeployError(f"At most {MAX_BATCH} queries per batch")
    identity, claims = _identity(request), _claims(request)
    calls = [_call(q, identity, claims=claims) for q in queries]
    app = app_of(request)

    def run_all() -> list[dict[str, Any]]:
        ts = app.db.latest_ts()
        return [run_call(app, c, "query", ts) for c in calls]

    return json_response({"results": await in_thread(request, run_all)})


urlpatterns = [
    path("api/query", _kind_view("query", "GET", "POST")),
    path("api/mutation", _kind_view("mutation", "POST")),
    path("api/action", _kind_view("action", "POST")),
    path("api/function", _kind_view(None, "POST")),
    path("api/query_ts", query_ts),
    path("api/query_at_ts", query_at_ts),
    path("api/query_batch", query_batch),
    re_path(r"^api/run/(?P<function_path>.+)$", run_by_url),
]


@api_view("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", preflight=False)
async def http_action(request: HttpRequest, rest: str) -> HttpResponse:
    """Serve convex/http.js routes at /http/<path> (the self-hosted site URL layout)."""
    app = app_of(request)
    # The router sees the path after /http, with the raw (still encoded) query string.
    url = request.build_absolute_uri(request.get_full_path()[len("/http") :])
    headers = [(k, v) for k, v in request.headers.items()]
    body = request.body or None  # GET/HEAD requests must reach user code without a body

    def run() -> Any:
        if app.code.current() is None:
            return None
        identity = app.auth.identity_for_http_action(request.headers)
        return app.runner.run_http_action(request.method or "GET", url, headers, body, identity)

    outcome = await in_thread(request, run)
    if outcome is None:
        return HttpResponse("This deployment has no HTTP actions", status=404)
    response = HttpResponse(outcome.body, status=outcome.status)
    seen: set[str] = set()
    for name, value in outcome.headers:
        key = name.lower()
        if key in ("content-length", "transfer-encoding", "connection"):
            continue
        # Repeated headers join; the first replaces Django's defaults (e.g. Content-Type).
        response[name] = f"{response[name]}, {value}" if key in seen else value
        seen.add(key)
    return response


urlpatterns.append(re_path(r"^http/(?P<rest>.*)$", http_action))
