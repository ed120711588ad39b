"""A V8 isolate (one mini-racer context) with a synchronous JS->Python channel and hard stops.

mini-racer 0.14.1 only offers Promise-returning Python callbacks (~1 ms each). Convex's
`Convex.syscall` must be synchronous, so we intercept mini-racer's C callback (it runs on the
isolate thread) for ids we reserve: JS writes a request into a SharedArrayBuffer and calls the
callback; the isolate thread hands the request to the thread driving the call, which answers
it (so storage is only ever touched from the caller's thread) and wakes the isolate thread.

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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from py_mini_racer import MiniRacer
from py_mini_racer import _context as _mr_context
from py_mini_racer._exc import JSEvalException, JSTerminatedException

SAB_CHARS = 1 << 20  # UTF-16 units in the shared buffer (2 MiB); larger messages are chunked
_HDR = 16
_FLAG_MORE_REQUEST = 1
_FLAG_NEXT_CHUNK = 2
_FLAG_MORE_RESPONSE = 4

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


class EngineError(Exception):
    """The isolate could not run the code: terminated, out of memory or broken."""


class TerminatedError(EngineError):
    """Execution was stopped by the host (time limit or explicit kill)."""


class OutOfMemoryError(EngineError):
    """The isolate reached its hard heap limit."""


class ChannelClosed(Exception):
    """A JS syscall arrived while no call was listening (a dangling promise after a call)."""


@dataclass
class SyncRequest:
    """One complete request from JS, answered with `reply`."""

    payload: str


@dataclass
class TaskDone:
    """A task posted with `post_eval` finished; `value` is its result or the exception."""

    tag: int
    value: Any
    error: BaseException | None


@dataclass
class Wakeup:
    """Host work finished (see `wake`): the driver should deliver completions to JS."""


Event = SyncRequest | TaskDone | Wakeup


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
        self._try_get_current = _v8_function(
            lib, "_ZN2v87Isolate13TryGetCurrentEv", ctypes.c_void_p, []
        )
        self._terminate = _v8_function(
            lib, "_ZN2v87Isolate18TerminateExecutionEv", None, [ctypes.c_void_p]
        )
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._replies: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._listening = False
        self._state_lock = threading.Lock()
        self._isolate_ptr: int | None = None
        self._req_parts: list[str] = []
        self._resp_rest = b""
        self._closed = False
        self._task_ids: dict[int, int] = {}
        self._code_handles: dict[str, Any] = {}
        self._sync_id = next(ctx._next_async_callback_id)
        _HANDLERS[(id(ctx), self._sync_id)] = self._on_notify
        notify = ctx._value_handle_to_python(
            ctx._wrap_raw_handle(lib.mr_make_js_callback(ctx._ctx, self._sync_id))
        )
        self._mr.eval(f"globalThis.__strataSab = new SharedArrayBuffer({_HDR + 2 * SAB_CHARS})")
        self._mem: memoryview = self._mr.eval("__strataSab")  # type: ignore[assignment]
        glob: Any = self._mr.eval("globalThis")
        glob["__strataNotify"] = notify
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
        with self._state_lock:
            listening = self._listening
        if not listening:
            reply = '1{"message": "This operation ran after its function finished"}'
        else:
            self._events.put(SyncRequest(chunk))
            reply = self._replies.get()
        self._write_response(reply)

    def _write_response(self, text: str | bytes) -> None:
        data = text.encode("utf-16-le", "surrogatepass") if isinstance(text, str) else text
        head, self._resp_rest = data[: 2 * SAB_CHARS], data[2 * SAB_CHARS :]
        self._mem[_HDR : _HDR + len(head)] = head
        flags = _FLAG_MORE_RESPONSE if self._resp_rest else 0
        struct.pack_into("<ii", self._mem, 4, len(head) // 2, flags)

    # ---------------------------------------------------------------- driver thread side
    def post_eval(self, code: str) -> int:
        """Start evaluating `code`; its TaskDone arrives through `next_event`. Returns a tag."""
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
            self._events.put(TaskDone(tag, value, None))

        _HANDLERS[(id(ctx), tag)] = on_done
        code_handle = self._code_handles.get(code)
        if code_handle is None:
            code_handle = ctx._python_to_value_handle(code)
            if len(code) < 64:  # the driver's fixed entry points: keep their V8 strings
                self._code_handles[code] = code_handle
        self._task_ids[tag] = ctx._dll.mr_eval(ctx._ctx, code_handle.raw, tag)
        return tag

    def listen(self, on: bool) -> None:
        """While listening, JS syscalls are queued for the driver; otherwise they fail fast."""
        with self._state_lock:
            self._listening = on

    def next_event(self, timeout: float | None) -> Event | None:
        """The next syscall request or task completion, or None after `timeout` seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def reply(self, text: str) -> None:
        """Answer the SyncRequest the isolate thread is blocked on ('0'+ok or '1'+error JSON)."""
        self._replies.put(text)

    def wake(self) -> None:
        """Called from any thread when host work completes, to wake the driver loop."""
        self._events.put(Wakeup())

    def terminate(self) -> None:
        """Stop whatever JS runs now (thread-safe). V8 resets once the stack unwinds."""
        if self._isolate_ptr:
            self._terminate(self._isolate_ptr)

    def eval(self, code: str, timeout: float = 30.0) -> Any:
        """Evaluate `code` to completion with syscalls refused; for setup and analysis."""
        tag = self.post_eval(code)
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                self.terminate()
                deadline = time.monotonic() + 30.0
                continue
            if isinstance(event, SyncRequest):
                self.reply('1{"message": "syscalls are not available here"}')
                continue
            if isinstance(event, Wakeup) or event.tag != tag:
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
        ctx = self._ctx
        _HANDLERS.pop((id(ctx), self._sync_id), None)
        for tag in list(self._task_ids):
            _HANDLERS.pop((id(ctx), tag), None)
        self._code_handles.clear()
        with contextlib.suppress(BufferError, ValueError):
            self._mem.release()
        self._mr.close()
