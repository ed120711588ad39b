"""A V8 isolate (one mini-racer context) with a synchronous JS->Python channel and hard stops.

mini-racer 0.14.1 only offers Promise-returning Python callbacks (~1 ms each). Convex's
`Convex.syscall` must be synchronous, so we intercept mini-racer's C callback (it runs on the
isolate thread) for ids we reserve: JS writes a request into a SharedArrayBuffer and calls the
callback, which answers it right there on the isolate thread with the handler the driving call
installed (`listen`). No thread hop per syscall: the driver thread only wakes for task
completions and the events the handler posts (`post_event`).

The isolate thread is foreign to Python: ctypes would create and destroy a Python thread state
for every callback (slow, and it drops thread-locals such as per-thread database connections).
The first callback pins one with PyGILState_Ensure; close() releases it on the same thread.

Termination uses V8's own `Isolate::TerminateExecution` (exported by libmini_racer), because
mini-racer's task cancellation cannot stop code running in the microtask checkpoint after a
task returned. This relies on private mini-racer internals: mini-racer is pinned (==0.14.1)
and tests/runtime/test_v8.py covers it.
"""

from __future__ import annotations

import contextlib
import ctypes
import queue
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from py_mini_racer import MiniRacer, init_mini_racer
from py_mini_racer import _context as _mr_context
from py_mini_racer._exc import JSEvalException, JSTerminatedException

SAB_CHARS = 1 << 20  # UTF-16 units in the shared buffer (2 MiB); larger messages are chunked
REQ_CHARS = 1 << 16  # UTF-16 units for a preloaded request; larger ones go through a syscall
_HDR = 16
_FLAG_MORE_REQUEST = 1
_FLAG_NEXT_CHUNK = 2
_FLAG_MORE_RESPONSE = 4
_FLAG_OUTCOME = 16  # JS left a finished call's outcome in the buffer (no callback made)

_Handler = Callable[[Any], None]
_HANDLERS: dict[tuple[int, int], _Handler] = {}
_original_callback = _mr_context.Context.handle_callback_from_v8


def _patched_callback(self: Any, callback_id: int, raw_val_handle: Any) -> None:
    handler = _HANDLERS.get((id(self), callback_id))
    if handler is None:
        _original_callback(self, callback_id, raw_val_handle)
        return
    handler(self._wrap_raw_handle(raw_val_handle))


_mr_context.Context.handle_callback_from_v8 = _patched_callback  # type: ignore[method-assign]


def initialize_v8() -> None:
    """Load and start V8 now, on the calling thread, which must be the process's main one.

    mini-racer 0.14.1 started from any other thread (say, the first isolate of a lazily
    restored deployment, made by a request's worker thread) crashes the process (SIGSEGV in
    `mr_init_context`) as soon as a few isolates are made at once, as a burst of concurrent
    first mutations does. Started on the main thread, isolates can then be made and run on
    any thread. Calling it again does nothing."""
    init_mini_racer(ignore_duplicate_init=True)


class EngineError(Exception):
    """The isolate could not run the code: terminated, out of memory or broken."""


class TerminatedError(EngineError):
    """Execution was stopped by the host (time limit or explicit kill)."""


class OutOfMemoryError(EngineError):
    """The isolate reached its hard heap limit."""


@dataclass
class TaskDone:
    """A task posted with `post_eval` finished; `value` is its result or the exception."""

    tag: int
    value: Any
    error: BaseException | None


@dataclass
class Wakeup:
    """Host work finished (see `wake`): the driver should deliver completions to JS."""


@dataclass
class Settled:
    """The call's outcome arrived (posted by the syscall handler)."""


Event = TaskDone | Wakeup | Settled
SyscallHandler = Callable[[str], str]


_PyGILState_Ensure = ctypes.pythonapi.PyGILState_Ensure
_PyGILState_Ensure.restype = ctypes.c_int
_PyGILState_Ensure.argtypes = []
_PyGILState_Release = ctypes.pythonapi.PyGILState_Release
_PyGILState_Release.restype = None
_PyGILState_Release.argtypes = [ctypes.c_int]


_FAST_CALLS = ("mr_eval", "mr_free_value")


def _keep_gil_for_quick_calls(dll: ctypes.CDLL) -> None:
    """Call mini-racer's task-posting and handle-freeing functions without releasing the GIL.

    ctypes releases the GIL around every foreign call; for these two, which only take
    short-lived mutexes that the isolate thread never holds while it waits for the GIL, the
    release buys nothing and invites a GIL hand-off (two context switches) per call. Applied
    once to mini-racer's shared library object."""
    if getattr(dll, "_strata_fast_calls", False):
        return
    holding = ctypes.PyDLL(dll._name, handle=dll._handle)
    for name in _FAST_CALLS:
        slow = getattr(dll, name)
        fast = getattr(holding, name)
        fast.restype = slow.restype
        fast.argtypes = slow.argtypes
        setattr(dll, name, fast)
    dll._strata_fast_calls = True  # type: ignore[attr-defined]


def _v8_function(lib: ctypes.CDLL, name: str, restype: Any, argtypes: list[Any]) -> Any:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


class V8Engine:
    """One isolate + context. Not thread-safe: one driver thread at a time (the pool ensures it)."""

    def __init__(self, heap_limit_bytes: int | None = None) -> None:
        self._mr = MiniRacer()
        ctx = self._mr._ctx
        assert ctx is not None
        self._ctx = ctx
        lib = ctx._dll
        _keep_gil_for_quick_calls(lib)
        self._try_get_current = _v8_function(
            lib, "_ZN2v87Isolate13TryGetCurrentEv", ctypes.c_void_p, []
        )
        self._terminate = _v8_function(
            lib, "_ZN2v87Isolate18TerminateExecutionEv", None, [ctypes.c_void_p]
        )
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._handler: SyscallHandler | None = None
        self._isolate_ptr: int | None = None
        self._req_parts: list[str] = []
        self._resp_rest = b""
        self._closed = False
        self._task_ids: dict[int, int] = {}
        self._code_handles: dict[str, Any] = {}
        self._sync_id = next(ctx._next_async_callback_id)
        _HANDLERS[(id(ctx), self._sync_id)] = self._on_notify
        self._gil_state: int | None = None
        self._releasing = False
        self._release_id = next(ctx._next_async_callback_id)
        _HANDLERS[(id(ctx), self._release_id)] = self._on_release
        release = ctx._value_handle_to_python(
            ctx._wrap_raw_handle(lib.mr_make_js_callback(ctx._ctx, self._release_id))
        )
        notify = ctx._value_handle_to_python(
            ctx._wrap_raw_handle(lib.mr_make_js_callback(ctx._ctx, self._sync_id))
        )
        self._mr.eval(f"globalThis.__strataSab = new SharedArrayBuffer({_HDR + 2 * SAB_CHARS})")
        self._mem: memoryview = self._mr.eval("__strataSab")  # type: ignore[assignment]
        # A second buffer carries each call's request into JS ahead of the call (`preload`),
        # sparing a syscall round trip per call.
        self._mr.eval(f"globalThis.__strataReqSab = new SharedArrayBuffer({_HDR + 2 * REQ_CHARS})")
        self._req_mem: memoryview = self._mr.eval("__strataReqSab")  # type: ignore[assignment]
        glob: Any = self._mr.eval("globalThis")
        glob["__strataNotify"] = notify
        glob["__strataReleaseThread"] = release
        self._mr.eval(
            "globalThis[Symbol.for('strata.releaseThread')] = __strataReleaseThread;"
            "delete globalThis.__strataReleaseThread"
        )
        # Learn the v8::Isolate* from inside a callback on the isolate thread.
        self._mr.eval("__strataNotify()")
        if not self._isolate_ptr:
            raise EngineError("could not determine the V8 isolate")
        if heap_limit_bytes:
            self._mr.set_hard_memory_limit(heap_limit_bytes)

    # ---------------------------------------------------------------- isolate thread side
    def _on_notify(self, _handle: Any) -> None:
        """Runs on the isolate thread for every `notify()` from JS."""
        if self._isolate_ptr is None:
            self._isolate_ptr = self._try_get_current()
            self._gil_state = _PyGILState_Ensure()  # pin this thread's Python thread state
            return
        mem = self._mem
        n, _, flags = struct.unpack_from("<iii", mem, 0)
        if flags & _FLAG_NEXT_CHUNK:
            self._write_response(self._resp_rest)
            return
        chunk = bytes(mem[_HDR : _HDR + 2 * n]).decode("utf-16-le", "surrogatepass")
        if flags & _FLAG_MORE_REQUEST:
            self._req_parts.append(chunk)
            struct.pack_into("<ii", mem, 4, 0, 0)
            return
        if self._req_parts:
            self._req_parts.append(chunk)
            chunk = "".join(self._req_parts)
            self._req_parts = []
        handler = self._handler
        if handler is None:
            reply = '1{"message": "This operation ran after its function finished"}'
        else:
            try:
                reply = handler(chunk)
            except BaseException as e:  # never let an exception into V8's callback frame
                reply = "1" + orjson.dumps({"message": f"{type(e).__name__}: {e}"}).decode()
        self._write_response(reply)

    def _on_release(self, _handle: Any) -> None:
        """Unpin the isolate thread's Python thread state (only while closing)."""
        if self._releasing and self._gil_state is not None:
            state, self._gil_state = self._gil_state, None
            _PyGILState_Release(state)

    def _write_response(self, text: str | bytes) -> None:
        data = text.encode("utf-16-le", "surrogatepass") if isinstance(text, str) else text
        head, self._resp_rest = data[: 2 * SAB_CHARS], data[2 * SAB_CHARS :]
        self._mem[_HDR : _HDR + len(head)] = head
        flags = _FLAG_MORE_RESPONSE if self._resp_rest else 0
        struct.pack_into("<ii", self._mem, 4, len(head) // 2, flags)

    # ---------------------------------------------------------------- driver thread side
    def post_eval(self, code: str, quiet: Callable[[], bool] | None = None) -> int:
        """Start evaluating `code`; its TaskDone arrives through `next_event`. Returns a tag.

        `quiet` (called on the isolate thread when the task succeeds): True means nobody
        needs the completion, so it is dropped instead of waking the driver thread."""
        ctx = self._ctx
        tag = next(ctx._next_async_callback_id)

        def on_done(handle: Any) -> None:
            self._task_ids.pop(tag, None)
            _HANDLERS.pop((id(ctx), tag), None)
            try:
                value = ctx._value_handle_to_python(handle)
            except BaseException as e:
                self._events.put(TaskDone(tag, None, e))
                return
            if quiet is not None and quiet():
                return
            self._events.put(TaskDone(tag, value, None))

        _HANDLERS[(id(ctx), tag)] = on_done
        code_handle = self._code_handles.get(code)
        if code_handle is None:
            code_handle = ctx._python_to_value_handle(code)
            if len(code) < 64:  # the driver's fixed entry points: keep their V8 strings
                self._code_handles[code] = code_handle
        self._task_ids[tag] = ctx._dll.mr_eval(ctx._ctx, code_handle.raw, tag)
        return tag

    def take_outcome(self) -> str | None:
        """The outcome JS left in the shared buffer when its call finished, if any (read once).

        Call on the isolate thread (from a task completion), where no JS runs meanwhile."""
        mem = self._mem
        n, _, flags = struct.unpack_from("<iii", mem, 0)
        if not flags & _FLAG_OUTCOME:
            return None
        struct.pack_into("<i", mem, 8, 0)
        return bytes(mem[_HDR : _HDR + 2 * n]).decode("utf-16-le", "surrogatepass")

    def preload(self, text: str) -> bool:
        """Place the next call's request where JS reads it at start; False if it is too big.

        Only while the isolate is idle or finishing a settled call: JS reads this buffer
        only at the start of __strata.invoke()."""
        data = text.encode("utf-16-le", "surrogatepass")
        if len(data) > 2 * REQ_CHARS:
            return False
        self._req_mem[_HDR : _HDR + len(data)] = data
        struct.pack_into("<ii", self._req_mem, 0, len(data) // 2, 1)
        return True

    def listen(self, handler: SyscallHandler | None) -> None:
        """Answer JS syscalls with `handler` (on the isolate thread); None: they fail fast.

        The handler gets the raw request and returns '0'+ok JSON or '1'+error JSON."""
        self._handler = handler

    def next_event(self, timeout: float | None) -> Event | None:
        """The next task completion or posted event, or None after `timeout` seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def post_event(self, event: Event) -> None:
        """Queue an event for the driver (thread-safe)."""
        self._events.put(event)

    def wake(self) -> None:
        """Called from any thread when host work completes, to wake the driver loop."""
        self._events.put(Wakeup())

    def terminate(self) -> None:
        """Stop whatever JS runs now (thread-safe). V8 resets once the stack unwinds."""
        if self._isolate_ptr:
            self._terminate(self._isolate_ptr)

    def eval(self, code: str, timeout: float = 30.0) -> Any:
        """Evaluate `code` to completion (syscalls fail unless a handler listens); for setup
        and analysis."""
        tag = self.post_eval(code)
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                self.terminate()
                deadline = time.monotonic() + 30.0
                continue
            if not isinstance(event, TaskDone) or event.tag != tag:
                continue
            if event.error is not None:
                raise self.translate_error(event.error)
            return event.value

    def translate_error(self, error: BaseException) -> BaseException:
        """Turn mini-racer's exceptions into ours (OOM vs termination vs JS error)."""
        if self.memory_limit_reached():
            return OutOfMemoryError("JavaScript execution ran out of memory")
        if isinstance(error, JSTerminatedException):
            return TerminatedError("JavaScript execution was terminated")
        if isinstance(error, JSEvalException):
            return EngineError(str(error).strip())
        return error

    def memory_limit_reached(self) -> bool:
        return bool(self._mr.was_hard_memory_limit_reached())

    def heap_stats(self) -> dict[str, Any]:
        return dict(self._mr.heap_stats())

    def close(self) -> None:
        """Free the isolate and its threads. Only call when no JS is running."""
        if self._closed:
            return
        self._closed = True
        if self._gil_state is not None:
            self._releasing = True
            with contextlib.suppress(Exception):  # a broken isolate keeps its thread state
                self.eval("globalThis[Symbol.for('strata.releaseThread')]()", timeout=5.0)
        ctx = self._ctx
        _HANDLERS.pop((id(ctx), self._sync_id), None)
        _HANDLERS.pop((id(ctx), self._release_id), None)
        for tag in list(self._task_ids):
            _HANDLERS.pop((id(ctx), tag), None)
        self._code_handles.clear()
        with contextlib.suppress(BufferError, ValueError):
            self._mem.release()
        with contextlib.suppress(BufferError, ValueError):
            self._req_mem.release()
        self._mr.close()
