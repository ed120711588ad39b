"""One warm isolate holding a deployment's bundle, and the loop that drives one function call.

Syscalls are served on the isolate thread the moment JS makes them (the calling thread only
waits); the loop delivers finished host work (actions' fetch/timers/runQuery) back into JS and
enforces the call's time budget: user-code time excludes time spent in syscalls, as in Convex.
After a time-out or out-of-memory the isolate is marked broken and the pool replaces it.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from . import webcrypto
from .limits import RuntimeLimits
from .modules import Bundle
from .v8 import (
    EngineError,
    OutOfMemoryError,
    Settled,
    TaskDone,
    TerminatedError,
    V8Engine,
    Wakeup,
)

_JS = Path(__file__).parent / "js"
# webcrypto.js defines the crypto.subtle factory runtime.js takes.
RUNTIME_JS = (_JS / "webcrypto.js").read_text(encoding="utf-8") + (_JS / "runtime.js").read_text(
    encoding="utf-8"
)


class SyscallFailure(Exception):
    """A syscall failed in a way user code sees as a thrown Error (with optional data)."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class CallHost(Protocol):
    """What a running call needs from its environment (storage, nested calls, I/O)."""

    def syscall(self, op: str, args: str) -> str:
        """Serve a Convex syscall; return its JSON result or raise SyscallFailure."""
        ...

    def start(self, op: str, args: str) -> str:
        """Start asynchronous host work (fetch, sleep, runQuery...); return a ticket."""
        ...

    def completions(self) -> list[tuple[str, bool, str]]:
        """Finished host work since the last call: (ticket, ok, payload)."""
        ...

    def has_pending(self) -> bool:
        """Whether started host work is still running."""
        ...

    def attach(self, wake: Any) -> None:
        """Receive the callable that wakes the driver loop when host work completes."""
        ...


@dataclass
class CallResult:
    """What JS reported for one call (the raw outcome from runtime.js)."""

    ok: bool
    result: str | None
    error: dict[str, Any] | None
    log_lines: list[dict[str, Any]]


class CallTimeout(Exception):
    """The call used more than its user-code time budget."""


class CallOutOfMemory(Exception):
    """The call exceeded the isolate heap limit."""


class IsolateStuck(EngineError):
    """JS kept running after TerminateExecution; the isolate must be abandoned."""


class CallNeverSettled(Exception):
    """The function's promise can never settle (nothing left that could resolve it)."""


class Isolate:
    """A V8 isolate with runtime.js and one bundle loaded; runs one call at a time."""

    def __init__(
        self,
        bundle: Bundle,
        env: dict[str, str],
        limits: RuntimeLimits,
        component_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.bundle = bundle
        self.limits = limits
        self.broken = False
        self.stuck = False
        self.calls = 0
        self.engine = V8Engine(heap_limit_bytes=limits.heap_bytes)
        try:
            self.engine.eval(RUNTIME_JS)
            env_json = orjson.dumps(env).decode()
            components_json = orjson.dumps(component_env or {}).decode()
            self.engine.eval(f"__strata.setEnv({env_json}, {components_json})")
            self.engine.eval(bundle.script, timeout=limits.load_seconds)
        except BaseException:
            self.close()
            raise

    def analyze(self) -> dict[str, Any]:
        """The raw analysis JSON from runtime.js (functions, routes, crons, schema, auth)."""
        raw = self.engine.eval("__strata.analyze()", timeout=self.limits.load_seconds)
        return dict(orjson.loads(str(raw)))

    def close(self) -> None:
        if self.stuck:
            # JS that ignored termination still owns the isolate thread; closing would block
            # forever. Leave it (and log loudly) rather than hang the caller.
            return
        self.engine.close()

    # ---------------------------------------------------------------- one call
    def run(
        self, request: dict[str, Any], host: CallHost, *, cpu_seconds: float, wall_seconds: float
    ) -> CallResult:
        """Run one invocation described by `request` (see runtime.js __strata.invoke)."""
        if self.broken:
            raise EngineError("isolate is broken")
        self.calls += 1
        host.attach(self.engine.wake)
        driver = _CallDriver(self, host, orjson.dumps(request).decode(), cpu_seconds, wall_seconds)
        self.engine.listen(driver.serve)
        try:
            return driver.drive()
        except IsolateStuck:
            self.stuck = True
            raise
        finally:
            self.engine.listen(None)
            if driver.poisoned:
                self.broken = True


class _CallDriver:
    """State machine for one call: JS tasks in flight, syscalls, host completions, budgets."""

    def __init__(
        self, iso: Isolate, host: CallHost, request: str, cpu_seconds: float, wall_seconds: float
    ) -> None:
        self.iso = iso
        self.engine = iso.engine
        self.host = host
        self.request = request
        self.cpu_left = cpu_seconds
        self.wall_deadline = time.monotonic() + wall_seconds
        self.outcome: CallResult | None = None
        self.in_flight: set[int] = set()
        self.barrier: int | None = None
        self.pump_posted = False
        self.poisoned = False
        self.failure: BaseException | None = None
        self.stopping = False
        self.invoke_tag = -1
        self.host_seconds = 0.0  # time the isolate thread spent inside syscalls

    def _post(self, code: str, quiet: Any = None) -> int:
        tag = self.engine.post_eval(code, quiet)
        self.in_flight.add(tag)
        return tag

    def _barrier_quiet(self) -> bool:
        """Runs on the isolate thread when a barrier task finishes: collect an outcome JS left
        in the shared buffer. True: the barrier's completion can go unreported (the call
        settled; never while stopping, because _stop waits for it)."""
        if self.stopping:
            return False
        if self.outcome is None:
            text = self.engine.take_outcome()
            if text is not None:
                self._set_outcome(text)
        return self.outcome is not None

    def drive(self) -> CallResult:
        self.engine.preload(self.request)  # else JS asks for it with strata/request
        # Each thread hand-off costs a context switch, the largest cost of a small call. The
        # invoke task reports only failures (the barrier behind it proves it finished), and
        # the barrier only when the call has not settled by then; a settled call wakes this
        # thread once, with Settled.
        self.invoke_tag = self.engine.post_eval("__strata.invoke()", quiet=lambda: True)
        # Runs after invoke's microtask checkpoint: usually the call has settled by then.
        self.barrier = self._post("0", quiet=self._barrier_quiet)
        running_since = time.monotonic()
        host_seen = 0.0
        while True:
            if self.outcome is not None and self.failure is None:
                # Settled. Tasks still in flight only finish this call's microtasks; JS refuses
                # syscalls once a call finished, so the next call can't be disturbed by them.
                return self.outcome
            if not self.in_flight:
                if self.failure is not None:
                    raise self.failure
                if self.engine.memory_limit_reached():
                    self.poisoned = True
                    raise CallOutOfMemory()
                if not self.host.has_pending() and not self.pump_posted:
                    self.engine.eval("__strata.reset()")
                    raise CallNeverSettled()
            js_running = bool(self.in_flight)
            now = time.monotonic()
            if js_running:
                timeout = min(self.cpu_left - (now - running_since), self.wall_deadline - now)
            else:
                timeout = self.wall_deadline - now
            event = self.engine.next_event(max(0.0, timeout))
            after = time.monotonic()
            host_now = self.host_seconds
            if js_running:
                self.cpu_left -= (after - running_since) - (host_now - host_seen)
            host_seen = host_now
            running_since = after
            if event is None:
                if js_running and self.cpu_left > 0 and after < self.wall_deadline:
                    continue  # the budget was extended by time spent in syscalls
                self._stop(CallTimeout())
                continue
            if isinstance(event, Wakeup):
                if not self.pump_posted and self.outcome is None:
                    self.pump_posted = True
                    self._post("__strata.pump()")
            elif isinstance(event, TaskDone):
                self._task_done(event)
            # Settled: the loop's first check returns the outcome

    def _task_done(self, event: TaskDone) -> None:
        if event.tag == self.invoke_tag:
            self._record_failure(event)  # posted quiet: only a failed invoke reports
            return
        if event.tag not in self.in_flight:
            return
        self.in_flight.discard(event.tag)
        self._record_failure(event)
        was_barrier = event.tag == self.barrier
        if was_barrier:
            self.barrier = None
        if not self.in_flight and self.outcome is None and self.failure is None and not was_barrier:
            # A task's result arrives before its microtasks finish: a barrier task runs only
            # after that checkpoint, so once it completes the isolate is really idle.
            self.barrier = self._post("0", quiet=self._barrier_quiet)

    def _record_failure(self, event: TaskDone) -> None:
        if event.error is not None and self.failure is None:
            err = self.engine.translate_error(event.error)
            if isinstance(err, OutOfMemoryError):
                self.poisoned = True
                self.failure = CallOutOfMemory()
            elif isinstance(err, TerminatedError):
                self.poisoned = True
                self.failure = CallTimeout()
            else:
                # Our entry points never throw: the global state was damaged. Replace it.
                self.poisoned = True
                self.failure = err

    def _stop(self, failure: BaseException) -> None:
        """Terminate running JS; keep draining events until the isolate is idle again."""
        if self.failure is None:
            self.failure = failure
        self.poisoned = True
        self.stopping = True  # syscalls made from now on fail (and re-terminate)
        self.engine.terminate()
        grace = time.monotonic() + 30.0
        while self.in_flight:
            event = self.engine.next_event(max(0.0, grace - time.monotonic()))
            if event is None:
                raise IsolateStuck("the isolate did not stop after termination") from failure
            if isinstance(event, TaskDone):
                self.in_flight.discard(event.tag)
        if self.barrier is None:
            # Code might still run in a microtask checkpoint: wait for a barrier task.
            self.barrier = self._post("0")
            self.engine.terminate()
            while self.in_flight:
                event = self.engine.next_event(max(0.0, grace - time.monotonic()))
                if event is None:
                    raise IsolateStuck("the isolate did not stop after termination") from failure
                if isinstance(event, TaskDone):
                    self.in_flight.discard(event.tag)
        raise failure

    def serve(self, payload: str) -> str:
        """Answer one syscall; runs on the isolate thread while JS waits for the reply."""
        if self.stopping:
            self.engine.terminate()
            return '1{"message": "execution was terminated"}'
        started = time.monotonic()
        op, _, args = payload.partition("\n")
        try:
            reply = "0" + self._dispatch(op, args)
        except SyscallFailure as e:
            reply = "1" + orjson.dumps({"message": e.message, "data": e.data}).decode()
        except Exception as e:
            reply = "1" + orjson.dumps({"message": f"{type(e).__name__}: {e}"}).decode()
        self.host_seconds += time.monotonic() - started
        return reply

    def _set_outcome(self, text: str) -> None:
        out = orjson.loads(text)
        self.outcome = CallResult(
            ok=bool(out.get("ok")),
            result=out.get("result"),
            error=out.get("error"),
            log_lines=list(out.get("logLines") or []),
        )
        self.engine.post_event(Settled())

    def _dispatch(self, op: str, args: str) -> str:
        if op == "strata/request":
            return self.request
        if op == "strata/done":
            self._set_outcome(args)
            return "null"
        if op == "strata/start":
            req = orjson.loads(args)
            return self.host.start(str(req["op"]), str(req["args"]))
        if op == "strata/completions":
            self.pump_posted = False
            return orjson.dumps(self.host.completions()).decode()
        if op == "strata/random":
            n = int(args)
            if not 0 <= n <= 65536:
                raise SyscallFailure("crypto.getRandomValues: at most 65536 bytes")
            return orjson.dumps(base64.b64encode(os.urandom(n)).decode()).decode()
        if op.startswith(webcrypto.PREFIX):
            return webcrypto.serve(op, args)
        return self.host.syscall(op, args)
