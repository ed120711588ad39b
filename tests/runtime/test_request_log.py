"""Durable mutation de-duplication (runtime/request_log) through the real V8 runner."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dataplane.runtime import FunctionRunner, request_log
from dataplane.runtime.analysis import AppAnalysis
from dataplane.runtime.modules import Bundle
from dataplane.runtime.outcomes import FunctionError

from .conftest import activate, make_deployment

SEND = {"channel": "c", "author": "a", "body": "hello"}


def _count(runner: FunctionRunner) -> float:
    return float(runner.run_query("messages:count", {}).value)


def test_same_key_runs_once_and_replays_result(runner: FunctionRunner) -> None:
    first = runner.run_mutation("messages:send", SEND, request_key="k1")
    again = runner.run_mutation("messages:send", SEND, request_key="k1")
    assert again.value == first.value
    assert again.commit_ts >= first.commit_ts
    assert _count(runner) == 1.0
    other = runner.run_mutation("messages:send", SEND, request_key="k2")
    assert other.value != first.value
    unkeyed = runner.run_mutation("messages:send", SEND)
    assert unkeyed.value not in (first.value, other.value)
    assert _count(runner) == 3.0


def test_failed_mutation_is_not_recorded(runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError):
        runner.run_mutation("messages:send", {**SEND, "body": ""}, request_key="bad")
    with pytest.raises(FunctionError):  # nothing recorded: it runs (and fails) again
        runner.run_mutation("messages:send", {**SEND, "body": ""}, request_key="bad")
    assert _count(runner) == 0.0


def test_concurrent_runs_of_one_key_commit_once(runner: FunctionRunner) -> None:
    results: list[object] = []
    lock = threading.Lock()

    def go() -> None:
        out = runner.run_mutation("messages:send", SEND, request_key="race")
        with lock:
            results.append(out.value)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and len(set(map(str, results))) == 1
    assert _count(runner) == 1.0


def test_record_survives_reopening_the_database(
    tmp_path: Path, messages_bundle: Bundle, messages_analysis: AppAnalysis
) -> None:
    dep = make_deployment(tmp_path, "reopen")
    try:
        first = activate(dep, messages_bundle, messages_analysis).run_mutation(
            "messages:send", SEND, request_key="persist"
        )
    finally:
        dep.close()
    dep = make_deployment(tmp_path, "reopen")
    try:
        runner = activate(dep, messages_bundle, messages_analysis)
        again = runner.run_mutation("messages:send", SEND, request_key="persist")
        assert again.value == first.value
        assert _count(runner) == 1.0
    finally:
        dep.close()


def test_prune_drops_only_expired_records(runner: FunctionRunner) -> None:
    runner.run_mutation("messages:send", SEND, request_key="old")
    cutoff = time.time() * 1000 + 1
    time.sleep(0.01)
    runner.run_mutation("messages:send", SEND, request_key="new")
    assert request_log.prune(runner.db, cutoff) == 1
    assert request_log.prune(runner.db, cutoff) == 0
    runner.run_mutation("messages:send", SEND, request_key="old")  # forgotten: runs again
    runner.run_mutation("messages:send", SEND, request_key="new")  # still remembered
    assert _count(runner) == 3.0


def test_record_holds_only_the_opaque_key_and_result(runner: FunctionRunner) -> None:
    runner.run_mutation("messages:send", SEND, request_key="mine")
    txn = runner.db.begin()
    rows = list(txn.table_scan(request_log.TABLE))
    assert len(rows) == 1 and set(rows[0]) == {"_id", "_creationTime", "key", "result"}


def test_first_send_skips_lookup_but_a_resend_still_finds_it(runner: FunctionRunner) -> None:
    first = runner.run_mutation("messages:send", SEND, request_key="fresh", first_send=True)
    resent = runner.run_mutation("messages:send", SEND, request_key="fresh")
    assert resent.value == first.value
    assert _count(runner) == 1.0


def test_isolate_pool_keeps_as_many_isolates_as_ran_concurrently(runner: FunctionRunner) -> None:
    """Steady load above `pool_size` must not rebuild isolates on every call."""
    active = runner._active
    assert active is not None
    barrier = threading.Barrier(6)

    def burst(t: int) -> None:
        for i in range(5):
            barrier.wait()
            runner.run_mutation("messages:send", {**SEND, "body": f"{t}-{i}"})

    threads = [threading.Thread(target=burst, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(runner) == 30.0
    assert active.pool.created <= 6  # at most one isolate per concurrent caller, ever
