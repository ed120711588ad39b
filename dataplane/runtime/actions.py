"""Host side of actions and HTTP actions: real asynchrony without blocking the isolate.

JS starts an operation (ctx.runQuery/runMutation/runAction, fetch, a timer) and gets a
ticket; the work runs on its own helper thread (nested functions on other isolates), and
its completion wakes the call's driver loop, which hands the result back to JS.
"""

from __future__ import annotations

import base64
import itertools
import threading
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from ..values import ConvexValueError, from_json, to_json
from .egress import client
from .handles import FunctionHandleError, address_path
from .host_services import ACTION_ASYNC_OPS, action_operation
from .isolate import SyscallFailure
from .outcomes import FunctionError
from .syscalls import CommonSyscalls, dumps
from .workers import THREADS, TIMERS

if TYPE_CHECKING:
    from .runner import CallContext

_tickets = itertools.count(1)
MAX_FETCH_BYTES = 64 << 20
MAX_CONCURRENT_OPS = 1000  # Convex's limit on concurrent I/O operations per function
FETCH_TIMEOUT_SECONDS = 60.0
_DB_OPS_HINT = "ctx.db is not available in actions: use ctx.runQuery / ctx.runMutation"


def nested_error(e: FunctionError) -> dict[str, Any]:
    """How a nested call's failure reaches JS: the inner error's whole text (`Uncaught ...`
    and its frames; convex/server rethrows it, adding the caller's frames), plus ConvexError
    data, with which convex/server rethrows a ConvexError."""
    if not e.has_data:
        return {"message": e.message, "data": None}
    try:
        return {"message": e.message, "data": to_json(e.data)}
    except ConvexValueError:
        return {"message": e.message, "data": None}


class ActionHost(CommonSyscalls):
    """CallHost for one action or HTTP action execution."""

    def __init__(self, call: CallContext) -> None:
        super().__init__(call)
        self._lock = threading.Lock()
        self._done: list[tuple[str, bool, str]] = []
        self._pending: set[str] = set()
        self._closed = False
        self.engine_wake: Any = None

    def attach(self, wake: Any) -> None:
        """Called by the isolate running this call: how to wake its driver loop."""
        self.engine_wake = wake

    # ---------------------------------------------------------------- CallHost
    def syscall(self, op: str, raw_args: str) -> str:
        try:
            args = orjson.loads(raw_args) if raw_args else {}
        except orjson.JSONDecodeError as e:
            raise SyscallFailure(f"Invalid arguments for {op}: {e}") from None
        if op.startswith("1.0/") and op.split("/", 1)[1] in (
            "get",
            "insert",
            "shallowMerge",
            "replace",
            "remove",
            "queryStream",
            "queryPage",
            "count",
            "queryCleanup",
            "queryStreamNext",
        ):
            raise SyscallFailure(_DB_OPS_HINT)
        return dumps(self.common(op, args if isinstance(args, dict) else {}))

    def start(self, op: str, args: str) -> str:
        ticket = f"t{next(_tickets)}"
        with self._lock:
            if self._closed:
                raise SyscallFailure("The action already finished")
            if len(self._pending) >= MAX_CONCURRENT_OPS:
                raise SyscallFailure(
                    f"Too many concurrent operations in one action (limit {MAX_CONCURRENT_OPS})"
                )
            self._pending.add(ticket)
        if op == "strata/sleep":
            ms = float(orjson.loads(args).get("ms", 0))
            TIMERS.call_later(max(0.0, ms) / 1000, lambda: self._complete(ticket, True, "null"))
            return ticket
        THREADS.submit(lambda: self._work(ticket, op, args))
        return ticket

    def completions(self) -> list[tuple[str, bool, str]]:
        with self._lock:
            done, self._done = self._done, []
        return done

    def has_pending(self) -> bool:
        with self._lock:
            return bool(self._pending) or bool(self._done)

    def close(self) -> None:
        """The call is over: late completions (timers, slow fetches) are dropped."""
        with self._lock:
            self._closed = True

    # ---------------------------------------------------------------- workers
    def _complete(self, ticket: str, ok: bool, payload: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending.discard(ticket)
            self._done.append((ticket, ok, payload))
            wake = self.engine_wake
        if wake is not None:
            wake()

    def _work(self, ticket: str, op: str, raw: str) -> None:
        ok, payload = self.run_op(op, raw)
        self._complete(ticket, ok, payload)

    def run_op(self, op: str, raw: str) -> tuple[bool, str]:
        """Run one asynchronous operation to completion on this thread: (ok, JSON payload),
        the payload being the result or `{message, data}`. Node.js actions use this."""
        try:
            return True, self._perform(op, orjson.loads(raw))
        except FunctionError as e:
            return False, dumps(nested_error(e))
        except SyscallFailure as e:
            return False, dumps({"message": e.message, "data": e.data})
        except Exception as e:
            return False, dumps({"message": f"{type(e).__name__}: {e}"})

    def _perform(self, op: str, a: dict[str, Any]) -> str:
        call = self.call
        runner = call.runner
        if op in ("1.0/actions/query", "1.0/actions/mutation", "1.0/actions/action"):
            try:
                name = address_path(runner.analysis, a, call.path)
            except FunctionHandleError as e:
                raise SyscallFailure(str(e)) from None
            if name is None:
                raise SyscallFailure(f"{op} needs a function name")
            args = from_json(a.get("args", {}))
            if isinstance(args, list):
                args = args[0] if args else {}
            depth = call.depth + 1
            if op == "1.0/actions/query":
                value = runner.run_query(
                    name, args, call.identity, allow_internal=True, _depth=depth
                ).value_json
            elif op == "1.0/actions/mutation":
                value = runner.run_mutation(
                    name, args, call.identity, allow_internal=True, _depth=depth
                ).value_json
            else:
                value = runner.run_action(
                    name, args, call.identity, allow_internal=True, _depth=depth
                ).value_json
            return dumps(value)
        if op == "strata/fetch":
            return self._fetch(a)
        if op in ACTION_ASYNC_OPS:
            return dumps(action_operation(call, op, a))
        raise SyscallFailure(f"Unknown asynchronous operation {op}")

    def _fetch(self, a: dict[str, Any]) -> str:
        url = str(a.get("url", ""))
        if not url.startswith(("http://", "https://")):
            raise SyscallFailure(f"fetch() only supports http(s) URLs, got {url!r}")
        # Every connection, redirects included, goes to a checked address (egress.py).
        allow_private = self.call.runner.limits.fetch_allow_private
        body = a.get("body")
        content = base64.b64decode(body) if body else None
        headers = [(str(k), str(v)) for k, v in a.get("headers", [])]
        method = str(a.get("method", "GET"))
        try:
            with (
                client(allow_private, FETCH_TIMEOUT_SECONDS) as http,
                http.stream(method, url, headers=headers, content=content) as resp,
            ):
                chunks = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_FETCH_BYTES:
                        raise SyscallFailure(
                            f"fetch() response from {url} is over {MAX_FETCH_BYTES} bytes"
                        )
                    chunks.append(chunk)
                data = b"".join(chunks)
                return dumps(
                    {
                        "status": resp.status_code,
                        "statusText": resp.reason_phrase,
                        "headers": [[k, v] for k, v in resp.headers.multi_items()],
                        "body": base64.b64encode(data).decode(),
                        "url": str(resp.url),
                        "redirected": bool(resp.history),
                    }
                )
        except httpx.HTTPError as e:
            raise SyscallFailure(f"fetch() to {url} failed: {e}") from None
