"""The private-internals parts of the V8 layer: sync channel, chunking, termination.

mini-racer is pinned because of these; if an upgrade breaks them, these tests fail first.
"""

from __future__ import annotations

import threading
import time

import pytest

from dataplane.runtime.v8 import SAB_CHARS, EngineError, TaskDone, V8Engine


def drive(engine: V8Engine, code: str, answer, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Run code; answer every sync request with answer(payload) (on the isolate thread)."""
    engine.listen(answer)
    try:
        tag = engine.post_eval(code)
        while True:
            event = engine.next_event(timeout)
            assert event is not None, "no event"
            if isinstance(event, TaskDone) and event.tag == tag:
                if event.error is not None:
                    raise engine.translate_error(event.error)
                return event.value
    finally:
        engine.listen(None)


@pytest.fixture
def engine():  # type: ignore[no-untyped-def]
    e = V8Engine(heap_limit_bytes=64 << 20)
    from dataplane.runtime.isolate import RUNTIME_JS

    e.eval(RUNTIME_JS)
    yield e
    e.close()


def test_sync_calls_round_trip_including_huge_and_non_bmp_payloads(engine: V8Engine) -> None:
    big = "é😀" * (SAB_CHARS // 2 + 123)  # > buffer both ways, with surrogate pairs
    engine.eval(f"globalThis.big = {big!r}.repeat(1)".replace("'", '"'))
    got = drive(
        engine,
        'Convex.syscall("echo", big) === "X" + big ? "same" : "different"',
        lambda payload: "0X" + payload.partition("\n")[2],
    )
    assert got == "same"


def test_errors_from_python_become_js_exceptions(engine: V8Engine) -> None:
    got = drive(
        engine,
        'try { Convex.syscall("x", "{}"); "no" } catch (e) { e.message + "|" + e.data }',
        lambda _p: '1{"message": "nope", "data": "{\\"k\\":1}"}',
    )
    assert got == 'nope|{"k":1}'


def test_syscalls_outside_a_call_fail_fast(engine: V8Engine) -> None:
    got = engine.eval('try { Convex.syscall("x", "{}"); "no" } catch (e) { e.message }')
    assert "ran after its function finished" in str(got)


def test_terminate_stops_plain_and_microtask_loops(engine: V8Engine) -> None:
    for code in ["for(;;){}", "Promise.resolve().then(() => { for(;;){} }); 1"]:
        timer = threading.Timer(0.3, engine.terminate)
        timer.start()
        start = time.monotonic()
        try:
            engine.eval(code)
            engine.eval("0")  # a microtask loop only ends when the next task is reached
        except EngineError:
            pass
        timer.join()
        assert time.monotonic() - start < 10
        assert engine.eval("6 * 7") == 42
