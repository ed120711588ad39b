"""FunctionRunner: runs a deployment's queries, mutations, actions and HTTP actions.

It owns the active code (bundle + analysis + environment variables) and a warm isolate pool
for it; `activate` swaps all three atomically, in-flight calls finish on the old code.
Queries and mutations run in one Transaction each (mutations retried on OCC conflicts by the
Database); actions get async host operations (fetch, timers, ctx.runQuery...) run on helper
threads, each nested function call on its own isolate, so nothing waits on a busy isolate.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import orjson
import structlog

from ..fastrand import random_bytes
from ..search.specs import vector_dimension_error
from ..transactions import DatabaseError, DuplicateRequest, Transaction
from ..validators import ValidationError, check_value
from ..values import ConvexValueError, from_json, to_json
from . import http_mounts, request_log
from .analysis import AppAnalysis, FunctionInfo, canonical_path, split_path
from .components import (
    NamespaceError,
    instance_of,
    internal_table,
    module_prefix,
    table_instance,
)
from .errorformat import (
    format_js_error,
    http_action_error_body,
    not_found_message,
    timeout_message,
)
from .isolate import (
    CallNeverSettled,
    CallOutOfMemory,
    CallResult,
    CallTimeout,
    Isolate,
)
from .journal import journal_end_cursor, make_journal
from .limits import RuntimeLimits
from .modules import Bundle
from .node_worker import NodeWorker, NodeWorkerError
from .outcomes import (
    ActionOutcome,
    FunctionError,
    FunctionLog,
    HttpActionResponse,
    LogLine,
    MutationOutcome,
    QueryOutcome,
)
from .sourcemap import SourceMap
from .syscalls import DatabaseSyscalls
from .v8 import EngineError

if TYPE_CHECKING:
    from ..files import FileService
    from ..search import SearchService
    from ..transactions import Database
    from .jwt_signing import JwtSigner

log = structlog.get_logger(__name__)
LogListener = Callable[[FunctionLog], None]


class SystemFunctions(Protocol):
    """Built-in `_system/` functions served beside user code (dashboard/ implements it)."""

    def query_outcome(
        self, path: str, args: dict[str, Any], identity: Any, ts: int | None
    ) -> QueryOutcome | None: ...

    def mutation_outcome(
        self, path: str, args: dict[str, Any], identity: Any
    ) -> MutationOutcome | None: ...


#: Idle isolates kept beyond `pool_size` when that many calls really ran at once.
MAX_POOL_HIGH_WATER = 32


class IsolatePool:
    """Warm isolates for one activation. Acquire never blocks: it makes a new isolate when
    all are busy (so nested calls from actions cannot deadlock). Release keeps as many idle
    isolates as calls have run concurrently (at least `size`, at most MAX_POOL_HIGH_WATER):
    closing the surplus after each burst made steady concurrent load rebuild isolates
    (a bundle load each) on almost every call."""

    def __init__(
        self,
        bundle: Bundle,
        env: dict[str, str],
        limits: RuntimeLimits,
        component_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.bundle = bundle
        self.env = dict(env)
        self.component_env = dict(component_env or {})
        self.limits = limits
        self._idle: list[Isolate] = []
        self._lock = threading.Lock()
        self._closed = False
        self._busy = 0
        self._keep = limits.pool_size
        self.created = 0

    def acquire(self) -> Isolate:
        with self._lock:
            self._busy += 1
            if self._busy > self._keep:
                self._keep = min(max(self._busy, self.limits.pool_size), MAX_POOL_HIGH_WATER)
            if self._idle:
                return self._idle.pop()
            self.created += 1
        try:
            return Isolate(self.bundle, self.env, self.limits, self.component_env)
        except BaseException:
            with self._lock:
                self._busy -= 1
            raise

    def release(self, iso: Isolate) -> None:
        with self._lock:
            self._busy -= 1
            keep = not self._closed and not iso.broken and len(self._idle) < self._keep
            if keep:
                self._idle.append(iso)
                return
        iso.close()

    def warm(self, n: int = 1) -> None:
        for _ in range(n):
            self.release(self.acquire())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for iso in idle:
            iso.close()


@dataclass
class _Active:
    bundle: Bundle
    analysis: AppAnalysis
    env: dict[str, str]
    pool: IsolatePool
    tables: dict[str, dict[str, Any]]
    schema_validation: dict[str, bool]  # per namespace ("" = the app)
    http_routing: dict[str, Any] | None = None  # http_mounts' table, when components mount routes
    _source_map: SourceMap | None = None
    node: NodeWorker | None = None  # runs the "use node" actions, if the app has any

    def node_for(self, request: dict[str, Any]) -> NodeWorker | None:
        """The Node.js worker when `request` is an action defined in a "use node" module."""
        if self.node is None or request.get("kind") != "action":
            return None
        module = str(request.get("path", "")).partition(":")[0]
        return self.node if module in self.analysis.node_modules else None

    def close(self) -> None:
        self.pool.close()
        if self.node is not None:
            self.node.close()

    def rewrite_stack(self, text: str) -> str:
        """Stack positions mapped back to the user's source files (when maps were pushed)."""
        if self.bundle.source_map is None:
            return text
        if self._source_map is None:
            self._source_map = SourceMap(self.bundle.source_map)
        try:
            return self._source_map.rewrite(text)
        except (ValueError, KeyError, IndexError):
            return text


@dataclass
class CallContext:
    """Per-call facts syscalls need: who calls, which function, schema checks."""

    runner: FunctionRunner
    active: _Active
    path: str
    identity: Any
    request_id: str
    depth: int
    txn: Transaction | None = None
    owns_txn: bool = False  # False for nested calls sharing their caller's transaction
    system_failure: FunctionError | None = None  # set by a syscall: fails the call whatever JS does

    @property
    def deployment_name(self) -> str:
        return self.runner.deployment_name

    @property
    def namespace(self) -> str:
        """The component path whose tables this call's code sees ("" for the app)."""
        return instance_of(self.path)

    def check_document(self, table: str, doc: dict[str, Any]) -> None:
        """Validate a written document against the schema (when schema validation is on)."""
        spec = self.active.tables.get(table)
        wrong_vector = None if spec is None else vector_dimension_error(table, spec, doc)
        if wrong_vector is not None:
            from .isolate import SyscallFailure

            raise SyscallFailure(wrong_vector)
        namespace = table_instance(table)
        if not self.active.schema_validation.get(namespace, False):
            return
        if spec is None:
            if any(table_instance(t) == namespace for t in self.active.tables):
                from .isolate import SyscallFailure

                raise SyscallFailure(
                    f'Failed to insert or update a document in table "{table}" because it '
                    "is not declared in the schema"
                )
            return
        validator = spec.get("documentType")
        if validator is None:
            return
        try:
            check_value(validator, doc, id_check=self.id_check, allow_system_fields=True, path="")
        except ValidationError as e:
            from .isolate import SyscallFailure

            raise SyscallFailure(
                f'Failed to insert or update a document in table "{table}" because it does not '
                f"match the schema: {e}"
            ) from None

    def id_check(self, table: str, id_str: str) -> bool:
        if self.txn is None:
            return True
        try:
            table = internal_table(self.namespace, table)
        except NamespaceError:
            return False
        return self.txn.normalize_id(table, id_str) is not None or (
            table not in self.txn.db.catalog.by_name and _looks_like_id(id_str)
        )


def _looks_like_id(s: str) -> bool:
    from ..ids import decode_id

    return decode_id(s) is not None


def _tables_of(analysis: AppAnalysis) -> tuple[dict[str, dict[str, Any]], dict[str, bool]]:
    """Tables by stored name, and per namespace whether documents are validated."""
    schema = analysis.schema
    if not schema:
        return {}, {}
    tables = {t["tableName"]: t for t in schema.get("tables", [])}
    validation = schema.get("componentValidation")
    if isinstance(validation, dict):
        return tables, {str(k): bool(v) for k, v in validation.items()}
    return tables, {"": bool(schema.get("schemaValidation", True))}


class FunctionRunner:
    """Runs functions of the deployment's active code. Thread-safe."""

    def __init__(
        self,
        db: Database,
        *,
        name: str = "local",
        limits: RuntimeLimits | None = None,
        files: FileService | None = None,
        search: SearchService | None = None,
        signer: JwtSigner | None = None,
    ) -> None:
        self.db = db
        self.deployment_name = name
        self.limits = limits or RuntimeLimits()
        self.files = files
        self.search = search
        self.signer = signer
        # `_system/` functions (the CLI's and the dashboard's); installed by the app.
        self.system: SystemFunctions | None = None
        self._active: _Active | None = None
        self._swap_lock = threading.Lock()
        self._listeners: list[LogListener] = []
        self._requests = request_log.Pruner(db)  # expired mutation de-dup records

    def activate(
        self,
        bundle: Bundle,
        analysis: AppAnalysis,
        env_vars: dict[str, str] | None = None,
        component_env: dict[str, dict[str, str]] | None = None,
        http_routing: dict[str, Any] | None = None,
    ) -> None:
        """Make `bundle` the code every new call runs, with `env_vars` as process.env
        (and `component_env[instance]` as process.env of each component instance's code;
        `http_routing`: which instance's http.js serves a path, see http_mounts).

        Warms one isolate first (so a broken bundle fails here, not on the first request);
        calls already running finish on the previous code, whose isolates are then freed.
        """
        tables, validation = _tables_of(analysis)
        pool = IsolatePool(bundle, dict(env_vars or {}), self.limits, component_env)
        pool.warm(1)
        new = _Active(bundle, analysis, dict(env_vars or {}), pool, tables, validation)
        new.http_routing = http_routing or None
        if any(not m.startswith("_deps/") for m in bundle.node_modules):
            new.node = NodeWorker(
                self.deployment_name,
                bundle.sources,
                dict(env_vars or {}),
                allow_private=self.limits.fetch_allow_private,
                node_binary=self.limits.node_binary,
                heap_mb=self.limits.node_heap_mb,
                packages=bundle.node_packages,
            )
        with self._swap_lock:
            old, self._active = self._active, new
        if old is not None:
            old.close()

    def set_env_vars(self, env_vars: dict[str, str]) -> None:
        """Change process.env for new calls (re-activates the same code)."""
        active = self._require_active()
        self.activate(
            active.bundle, active.analysis, env_vars, active.pool.component_env, active.http_routing
        )

    @property
    def analysis(self) -> AppAnalysis | None:
        active = self._active
        return None if active is None else active.analysis

    @property
    def env_vars(self) -> dict[str, str]:
        active = self._active
        return {} if active is None else dict(active.env)

    def add_log_listener(self, listener: LogListener) -> None:
        """Receive every finished execution's log lines (the deployment log stream)."""
        self._listeners.append(listener)

    def remove_log_listener(self, listener: LogListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def close(self) -> None:
        with self._swap_lock:
            old, self._active = self._active, None
        if old is not None:
            old.close()

    # ---------------------------------------------------------------- public API
    def run_query(
        self,
        path: str,
        args: dict[str, Any],
        identity: Any = None,
        ts: int | None = None,
        *,
        allow_internal: bool = False,
        journal: str | None = None,
        args_json: Any = None,
        _depth: int = 0,
    ) -> QueryOutcome:
        """Run a query at snapshot `ts` (default latest); returns value, logs, read set, ts.

        `journal` (from an earlier run of the same subscription) pins where its paginated
        page ends; the outcome carries the journal to send with the result. `args_json`: the
        same arguments as the convex-JSON a transport decoded them from, handed to the
        isolate as they are instead of being encoded again."""
        if path.startswith("_system/") and self.system is not None:
            system = self.system.query_outcome(path, args, identity, ts)
            if system is not None:
                return system
        active = self._require_active()
        info = self._lookup(active, path, "query", allow_internal)
        try:
            txn = self.db.begin(ts)
        except DatabaseError as e:
            raise FunctionError(str(e)) from e
        ctx = self._context(active, info, identity, _depth, txn, owns_txn=True)
        self._check_args(info, args, ctx)
        wire = _wire_args(info.path, args, args_json)
        seed = _stable_seed(info.path, wire, txn.snapshot_ts)
        host = DatabaseSyscalls(ctx, txn, writable=False, journal_end=journal_end_cursor(journal))
        result = self._execute(active, ctx, "query", info, wire, host, seed)
        try:
            value = self._finish(info, result, ctx, "query")
        except FunctionError as e:  # the code threw (deterministically, given what it read)
            e.read_set, e.read_ts = txn.read_set, txn.snapshot_ts
            raise
        return QueryOutcome(
            value, _lines(result), txn.read_set, txn.snapshot_ts, make_journal(host.paged_end)
        )

    def run_query_in_transaction(
        self, path: str, args: dict[str, Any], identity: Any, txn: Transaction, depth: int
    ) -> Any:
        """ctx.runQuery inside a query or mutation: same transaction, another isolate.

        Runs synchronously on the caller's thread while the calling isolate waits for the
        syscall's reply; returns the convex-JSON result.
        """
        active = self._require_active()
        info = self._lookup(active, path, "query", True)
        ctx = self._context(active, info, identity, depth, txn)
        self._check_args(info, args, ctx)
        wire = _wire_args(info.path, args, None)
        seed = _stable_seed(info.path, wire, txn.snapshot_ts)
        host = DatabaseSyscalls(ctx, txn, writable=False)
        result = self._execute(active, ctx, "query", info, wire, host, seed)
        return self._finish(info, result, ctx, "query")

    def run_mutation_in_transaction(
        self, path: str, args: dict[str, Any], identity: Any, txn: Transaction, depth: int
    ) -> Any:
        """ctx.runMutation inside a mutation: a sub-transaction of the caller's. If the nested
        mutation fails, its writes are undone and the caller may catch the error."""
        active = self._require_active()
        info = self._lookup(active, path, "mutation", True)
        ctx = self._context(active, info, identity, depth, txn)
        self._check_args(info, args, ctx)
        host = DatabaseSyscalls(ctx, txn, writable=True)
        savepoint = txn.savepoint()
        try:
            wire = _wire_args(info.path, args, None)
            result = self._execute(active, ctx, "mutation", info, wire, host, _random_seed())
            return self._finish(info, result, ctx, "mutation")
        except BaseException:
            txn.rollback_to(savepoint)
            raise

    def run_mutation(
        self,
        path: str,
        args: dict[str, Any],
        identity: Any = None,
        *,
        allow_internal: bool = False,
        request_key: str | None = None,
        first_send: bool = False,
        args_json: Any = None,
        _depth: int = 0,
    ) -> MutationOutcome:
        """Run a mutation in a transaction and commit it (retrying the whole function on OCC).

        With a `request_key` (an opaque string, see sync/dedup.request_key) it runs at most
        once per key, even across crashes: the result is recorded in its own commit, replayed.
        `first_send=True` skips looking the key up (a storage read) when the caller knows it
        is new; a resend racing it is refused by the committer and replays the record.
        """
        if path.startswith("_system/") and self.system is not None:
            system = self.system.mutation_outcome(path, args, identity)
            if system is not None:
                return system
        active = self._require_active()
        info = self._lookup(active, path, "mutation", allow_internal)
        last_logs: list[LogLine] = []
        db = self.db
        wire = _wire_args(info.path, args, args_json)  # once, not on every OCC retry
        if request_key is not None and not first_send:
            prior = request_log.lookup(db, request_key)
            if prior is not None:  # committed before (maybe before a crash): replay it
                return MutationOutcome(prior[0], [], prior[1])

        def attempt(txn: Transaction) -> Any:
            nonlocal last_logs
            ctx = self._context(active, info, identity, _depth, txn, owns_txn=True)
            self._check_args(info, args, ctx)
            host = DatabaseSyscalls(ctx, txn, writable=True)
            result = self._execute(active, ctx, "mutation", info, wire, host, _random_seed())
            last_logs = _lines(result)
            value = self._finish(info, result, ctx, "mutation")
            if request_key is not None:
                request_log.record(txn, request_key, value, check=not first_send)
            return value

        try:
            value, commit_ts = db.run_mutation(attempt)
        except DuplicateRequest as e:  # a resend lost the race against its first run: replay
            assert request_key is not None
            prior = request_log.lookup(db, request_key)
            if prior is None:
                raise FunctionError(f"{info.path} could not commit: {e}") from e
            return MutationOutcome(prior[0], [], prior[1])
        except DatabaseError as e:  # commit-time failures: OCC retries exhausted, limits
            raise FunctionError(f"{info.path} could not commit: {e}", logs=last_logs) from e
        if request_key is not None:
            self._requests.maybe_prune()
        return MutationOutcome(value, last_logs, commit_ts)

    def run_action(
        self,
        path: str,
        args: dict[str, Any],
        identity: Any = None,
        *,
        allow_internal: bool = False,
        args_json: Any = None,
        _depth: int = 0,
    ) -> ActionOutcome:
        """Run an action: no transaction, real time and randomness, async host operations."""
        from .actions import ActionHost

        active = self._require_active()
        info = self._lookup(active, path, "action", allow_internal)
        ctx = self._context(active, info, identity, _depth, None)
        self._check_args(info, args, ctx)
        host = ActionHost(ctx)
        wire = _wire_args(info.path, args, args_json)
        try:
            result = self._execute(active, ctx, "action", info, wire, host, _random_seed())
        finally:
            host.close()
        value = self._finish(info, result, ctx, "action")
        return ActionOutcome(value, _lines(result))

    def run_http_action(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] | dict[str, str],
        body: bytes | None,
        identity: Any = None,
    ) -> HttpActionResponse:
        """Route a request through convex/http.js; a missing route gives a 404 response."""
        from .actions import ActionHost

        active = self._require_active()
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
        instance, routed = "", None
        if active.http_routing is not None:
            found = http_mounts.route(active.http_routing, urlsplit(url).path, method)
            if found is None:
                return HttpActionResponse(
                    404, [("content-type", "text/plain")], b"No HttpAction routed", []
                )
            instance, routed = found
        module = module_prefix(instance) + "http.js"
        info = FunctionInfo(module, "default", "httpAction", "public", None, None)
        ctx = self._context(active, info, identity, 0, None)
        host = ActionHost(ctx)
        request = {
            "method": method.upper(),
            "url": url,
            "headers": [[k, v] for k, v in pairs],
            "body": None if body is None else _b64(body),
        }
        try:
            result = self._run_isolate(
                active,
                ctx,
                {
                    "kind": "http",
                    "path": f"{module}:default",
                    "routedPath": routed,
                    "request": request,
                    "seed": _random_seed(),
                    "now": float(int(time.time() * 1000)),
                    "requestId": ctx.request_id,
                },
                host,
                self.limits.action_seconds,
                f"HTTP {method.upper()} {url}",
            )
        finally:
            host.close()
        if not result.ok:
            err = self._error(result, "http", active)
            error_body = http_action_error_body(err.message, ctx.request_id)
            if err.has_data:
                error_body["data"] = to_json(err.data)
            return HttpActionResponse(
                500,
                [("content-type", "application/json")],
                orjson.dumps(error_body),
                err.logs,
            )
        raw = orjson.loads(result.result or "null")
        import base64

        return HttpActionResponse(
            status=int(raw["status"]),
            headers=[(str(k), str(v)) for k, v in raw["headers"]],
            body=b"" if raw["body"] is None else base64.b64decode(raw["body"]),
            logs=_lines(result),
            status_text=str(raw.get("statusText") or ""),
        )

    # ---------------------------------------------------------------- internals
    def _require_active(self) -> _Active:
        active = self._active
        if active is None:
            raise FunctionError(
                "No functions are deployed yet: run `npx convex dev` or `npx convex deploy`"
            )
        return active

    def _lookup(self, active: _Active, path: str, kind: str, allow_internal: bool) -> FunctionInfo:
        try:
            split_path(path)
        except ValueError as e:
            raise FunctionError(str(e)) from None
        info = active.analysis.function(path)
        if info is None or (info.visibility == "internal" and not allow_internal):
            what = "function" if allow_internal else "public function"
            raise FunctionError(not_found_message(what, canonical_path(path)))
        if info.kind != kind:
            raise FunctionError(
                f"Trying to execute {info.path} as {kind.capitalize()}, but it is defined as "
                f"{info.kind.capitalize()}."
            )
        return info

    def _context(
        self,
        active: _Active,
        info: FunctionInfo,
        identity: Any,
        depth: int,
        txn: Transaction | None,
        *,
        owns_txn: bool = False,
    ) -> CallContext:
        if depth > self.limits.max_nested_depth:
            raise FunctionError(
                f"Too many nested function calls (limit {self.limits.max_nested_depth})"
            )
        request_id = random_bytes(8).hex()
        return CallContext(self, active, info.path, identity, request_id, depth, txn, owns_txn)

    def _check_args(self, info: FunctionInfo, args: Any, ctx: CallContext) -> None:
        if not isinstance(args, dict):
            raise FunctionError(
                f"ArgumentValidationError: arguments to {info.path} must be an object, "
                f"got {type(args).__name__}"
            )
        if info.args is None:
            return
        try:
            check_value(info.args, args, id_check=ctx.id_check)
        except ValidationError as e:
            raise FunctionError(f"ArgumentValidationError: {e}") from None

    def _execute(
        self,
        active: _Active,
        ctx: CallContext,
        kind: str,
        info: FunctionInfo,
        wire: Any,
        host: Any,
        seed: list[int],
    ) -> CallResult:
        try:
            args_json = orjson.dumps([wire]).decode()
        except TypeError as e:
            raise FunctionError(f"Invalid arguments for {info.path}: {e}") from None
        if len(args_json) > self.limits.max_args_bytes:
            raise FunctionError(
                f"Arguments for {info.path} are too large "
                f"({len(args_json)} bytes, limit {self.limits.max_args_bytes})"
            )
        request = {
            "kind": kind,
            "path": f"{info.module}:{info.name}",
            "args": args_json,
            "seed": seed,
            "now": float(int(time.time() * 1000)),
            "requestId": ctx.request_id,
            "maxResult": self.limits.max_result_bytes,
        }
        seconds = {
            "query": self.limits.query_seconds,
            "mutation": self.limits.mutation_seconds,
        }.get(kind, self.limits.action_seconds)
        return self._run_isolate(active, ctx, request, host, seconds, info.path)

    def _run_isolate(
        self,
        active: _Active,
        ctx: CallContext,
        request: dict[str, Any],
        host: Any,
        seconds: float,
        label: str,
    ) -> CallResult:
        kind = str(request["kind"])
        started = time.time()
        node = active.node_for(request)
        iso: Isolate | NodeWorker = node if node is not None else active.pool.acquire()
        result: CallResult | None = None
        error: FunctionError | None = None
        try:
            wall = seconds if kind in ("action", "http") else max(seconds * 30, 30.0)
            result = iso.run(request, host, cpu_seconds=seconds, wall_seconds=wall)
        except CallTimeout:
            error = FunctionError(timeout_message(kind, label, seconds))
        except CallOutOfMemory:
            error = FunctionError(
                f"JavaScript execution ran out of memory in {label} "
                f"(maximum heap size: {self.limits.heap_bytes >> 20} MiB)"
            )
        except CallNeverSettled:
            error = FunctionError(
                f"{label} returned a promise that never resolves (nothing left to settle it)"
            )
        except EngineError as e:
            log.error("isolate failure", function=label, error=str(e))
            error = FunctionError(f"Internal runtime error while running {label}: {e}")
        except NodeWorkerError as e:
            error = FunctionError(f"{label} failed in the Node.js runtime: {e}")
        finally:
            if isinstance(iso, Isolate):
                active.pool.release(iso)
        too_big = result is not None and len(result.result or "") > self.limits.max_result_bytes
        if result is not None and result.ok and too_big:
            size = len(result.result or "")
            result = CallResult(
                False,
                None,
                {
                    "name": "Error",
                    "message": f"Function {label} return value is too large "
                    f"({size} bytes, limit {self.limits.max_result_bytes})",
                    "stack": "",
                },
                result.log_lines,
            )
        self._emit(ctx, kind, result, error, started)
        if error is not None:
            raise error
        assert result is not None
        return result

    def _emit(
        self,
        ctx: CallContext,
        kind: str,
        result: CallResult | None,
        error: FunctionError | None,
        started: float,
    ) -> None:
        if not self._listeners:
            return
        message = error.message if error is not None else None
        if result is not None and not result.ok:
            message = format_js_error(result.error or {}, ctx.active.rewrite_stack)
        entry = FunctionLog(
            path=ctx.path,
            kind=kind,
            lines=_lines(result) if result is not None else [],
            success=error is None and result is not None and result.ok,
            error=message,
            started_at=started * 1000,
            duration_ms=(time.time() - started) * 1000,
            request_id=ctx.request_id,
            # Nested calls' bytes are in their caller's transaction: count them once, there.
            db_bytes_read=ctx.txn.bytes_read if ctx.txn is not None and ctx.owns_txn else 0,
            db_bytes_written=ctx.txn.bytes_written if ctx.txn is not None and ctx.owns_txn else 0,
        )
        for listener in list(self._listeners):
            try:
                listener(entry)
            except Exception:
                log.exception("log listener failed")

    def _finish(self, info: FunctionInfo, result: CallResult, ctx: CallContext, kind: str) -> Any:
        """The call's convex-JSON result, checked against the returns validator if any."""
        if ctx.system_failure is not None:
            raise ctx.system_failure
        if not result.ok:
            error = self._error(result, kind, ctx.active)
            error.request_id = ctx.request_id
            raise error
        try:
            value_json = orjson.loads(result.result or "null")
            value = from_json(value_json) if info.returns is not None else None
        except (ConvexValueError, orjson.JSONDecodeError) as e:
            raise FunctionError(
                f"{info.path} returned an invalid value: {e}", logs=_lines(result)
            ) from None
        if info.returns is not None:
            try:
                check_value(info.returns, value, id_check=ctx.id_check)
            except ValidationError as e:
                raise FunctionError(f"ReturnsValidationError: {e}", logs=_lines(result)) from None
        return value_json

    def _error(self, result: CallResult, kind: str, active: _Active) -> FunctionError:
        err = result.error or {}
        raw_data = err.get("convexErrorData")
        data: Any = None
        has_data = raw_data is not None
        if raw_data is not None:
            try:
                data = from_json(orjson.loads(raw_data))
            except (ConvexValueError, orjson.JSONDecodeError):
                data = raw_data
        message = format_js_error(err, active.rewrite_stack)
        return FunctionError(
            message, data, _lines(result), has_data=has_data, js_message=str(err.get("message"))
        )


def _lines(result: CallResult | None) -> list[LogLine]:
    if result is None:
        return []
    return [LogLine.from_js(x) for x in result.log_lines]


def _words(raw: bytes) -> list[int]:
    return [int.from_bytes(raw[i : i + 4], "little") for i in range(0, 16, 4)]


def _wire_args(path: str, args: dict[str, Any], args_json: Any) -> Any:
    """The arguments as convex-JSON: the transport's own when it has them, else encoded once."""
    if args_json is not None:
        return args_json
    try:
        return to_json(args)
    except (ConvexValueError, TypeError) as e:
        raise FunctionError(f"Invalid arguments for {path}: {e}") from None


def _stable_seed(path: str, wire_args: Any, ts: int) -> list[int]:
    """128-bit seed for a query: the same function, args and snapshot give the same values."""
    digest = hashlib.blake2b(
        orjson.dumps([path, wire_args, ts], option=orjson.OPT_SORT_KEYS), digest_size=16
    ).digest()
    return _words(digest)


def _random_seed() -> list[int]:
    """128 bits from the OS for mutations and actions."""
    return _words(random_bytes(16))


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
