"""Durable mutation de-duplication (runtime/request_log) through the real V8 runner."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import pytest

from dataplane.runtime import FunctionRunner, request_log
from dataplane.runtime.analysis import AppAnalysis
from dataplane.runtime.modules import Bundle
from dataplane.runtime.outcomes import FunctionError
from dataplane.transactions import DuplicateRequest

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
    out = runner.run_mutation("messages:send", SEND, request_key="mine")
    stored = runner.db.mutation_request("mine")
    assert stored is not None
    ts, result = stored
    assert ts == out.commit_ts and orjson.loads(result) == out.value_json
    # A side table of the commit, not a document table: nothing for queries or exports.
    assert not any(name.startswith("_mutation") for name in runner.db.catalog.by_name)


def test_resend_racing_its_first_run_is_refused_by_the_committer(runner: FunctionRunner) -> None:
    """The resend misses the record (not committed yet), runs, and must not commit twice."""
    txn = runner.db.begin()
    request_log.record(txn, "raced", "first-result", check=False)
    txn.insert("messages", {"channel": "c", "author": "a", "body": "first", "likes": 0.0})
    runner.db.commit(txn)
    again = runner.db.begin()
    request_log.record(again, "raced", "second-result", check=True)
    again.insert("messages", {"channel": "c", "author": "a", "body": "second", "likes": 0.0})
    with pytest.raises(DuplicateRequest):
        runner.db.commit(again)
    assert _count(runner) == 1.0
    assert request_log.lookup(runner.db, "raced") == ("first-result", txn_ts(runner, "raced"))


def txn_ts(runner: FunctionRunner, key: str) -> int:
    stored = runner.db.mutation_request(key)
    assert stored is not None
    return stored[0]


def test_mutation_without_writes_is_not_recorded(runner: FunctionRunner) -> None:
    runner.run_mutation("messages:send", SEND, request_key="w")
    assert runner.db.mutation_request("w") is not None
    txn = runner.db.begin()
    request_log.record(txn, "read-only", "x", check=False)
    runner.db.commit(txn)
    assert runner.db.mutation_request("read-only") is None


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
