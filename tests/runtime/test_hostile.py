"""Hostile user code: each attack fails with a clear error and the runtime stays healthy.

Every test ends by running a normal function on the same runner, proving recovery; the
cross-deployment test runs a second tenant's queries while the first one misbehaves.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import AppAnalysis, Bundle, FunctionError, FunctionRunner, RuntimeLimits
from dataplane.scheduled import jobs
from dataplane.scheduler.executor import run_job
from tests.runtime.conftest import activate, make_deployment

# Generous enough that a memory bomb reaches the heap limit before the clock even on a loaded
# machine, short enough that the spin tests stay quick.
FAST = RuntimeLimits(query_seconds=2.0, mutation_seconds=2.0, action_seconds=5.0)


@pytest.fixture
def fast_runner(
    deployment: DeploymentApp, messages_bundle: Bundle, messages_analysis: AppAnalysis
) -> FunctionRunner:
    return activate(deployment, messages_bundle, messages_analysis, limits=FAST)


def healthy(runner: FunctionRunner) -> None:
    runner.run_mutation("messages:send", {"channel": "ok", "author": "a", "body": "still alive"})
    bodies = [d["body"] for d in runner.run_query("messages:list", {"channel": "ok"}).value]
    assert "still alive" in bodies


def test_infinite_loop_times_out_and_isolate_recovers(fast_runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match=r"timed out.*hostile:spin.*2s"):
        fast_runner.run_query("hostile:spin", {})
    healthy(fast_runner)


def test_loop_in_microtask_phase_is_stopped(fast_runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="timed out"):
        fast_runner.run_query("hostile:spinAfterAwait", {})
    healthy(fast_runner)


def test_memory_bomb_hits_heap_limit(fast_runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match=r"ran out of memory.*64 MiB"):
        fast_runner.run_query("hostile:memoryBomb", {})
    healthy(fast_runner)
    with pytest.raises(FunctionError, match="ran out of memory"):
        fast_runner.run_action("hostile:bigAction", {})
    healthy(fast_runner)


def test_huge_return_value_is_rejected_but_large_ones_pass(fast_runner: FunctionRunner) -> None:
    big = fast_runner.run_query("hostile:hugeReturn", {"mb": 3.0}).value
    assert len(big) == 3 << 20  # larger than the shared buffer: travels in chunks
    with pytest.raises(FunctionError, match="return value is too large"):
        fast_runner.run_query("hostile:hugeReturn", {"mb": 17.0})
    healthy(fast_runner)


def test_promise_that_never_resolves(fast_runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="never resolves"):
        fast_runner.run_query("hostile:neverResolves", {})
    healthy(fast_runner)


def test_forbidden_apis_in_queries_and_mutations(fast_runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match=r"Can't use fetch\(\) in queries and mutations"):
        fast_runner.run_query("env:fetchInQuery", {})
    with pytest.raises(FunctionError, match="Can't use setTimeout in queries and mutations"):
        fast_runner.run_mutation("env:timerInMutation", {})
    with pytest.raises(FunctionError, match="not allowed in a query"):
        fast_runner.run_query("hostile:writeInQuery", {})
    assert fast_runner.run_query("messages:count", {}).value == 0.0
    healthy(fast_runner)


def test_a_query_scheduled_by_name_is_accepted_and_fails_when_due(
    deployment: DeploymentApp, fast_runner: FunctionRunner
) -> None:
    fast_runner.run_mutation("hostile:schedule", {})
    (job,) = jobs.jobs_in_state(deployment.db.begin(), jobs.PENDING)
    assert job["name"] == "messages:list"
    assert run_job(fast_runner, deployment.db, str(job["_id"])) == jobs.FAILED
    done = deployment.db.begin().get(str(job["_id"]))
    assert done is not None and done["state"]["kind"] == jobs.FAILED
    assert (
        "is defined as a Query. Only Mutation and Action can be scheduled"
        in (done["state"]["error"])
    )
    healthy(fast_runner)


def test_log_flood_is_capped(fast_runner: FunctionRunner) -> None:
    out = fast_runner.run_query("hostile:manyLogs", {})
    assert out.value == "done"
    assert len(out.logs) == 257
    assert out.logs[0].message.endswith("(truncated due to length)")
    assert len(out.logs[0].message) < 4200
    assert out.logs[-1].level == "ERROR" and "Log overflow" in out.logs[-1].message


def test_other_deployment_unaffected_by_a_spinning_tenant(
    tmp_path: Path,
    fast_runner: FunctionRunner,
    messages_bundle: Bundle,
    messages_analysis: AppAnalysis,
) -> None:
    other = make_deployment(tmp_path, "other-tenant")
    try:
        other_runner = activate(other, messages_bundle, messages_analysis, limits=FAST)
        other_runner.run_mutation(
            "messages:send", {"channel": "mine", "author": "b", "body": "private"}
        )
        errors: list[BaseException] = []

        def attack() -> None:
            try:
                fast_runner.run_query("hostile:spin", {})
            except BaseException as e:
                errors.append(e)

        attacker = threading.Thread(target=attack)
        attacker.start()
        for _ in range(20):
            rows = other_runner.run_query("messages:list", {"channel": "mine"}).value
            assert [d["body"] for d in rows] == ["private"]
        attacker.join(30)
        assert len(errors) == 1 and "timed out" in str(errors[0])
        # Tenants see only their own data.
        assert fast_runner.run_query("messages:list", {"channel": "mine"}).value == []
        healthy(fast_runner)
    finally:
        other.close()


def test_broken_isolates_are_freed(fast_runner: FunctionRunner) -> None:
    from py_mini_racer._context import context_count

    healthy(fast_runner)
    before_threads = threading.active_count()
    before_contexts = context_count()
    for _ in range(3):
        with pytest.raises(FunctionError, match="timed out"):
            fast_runner.run_query("hostile:spin", {})
        with pytest.raises(FunctionError, match="out of memory"):
            fast_runner.run_query("hostile:memoryBomb", {})
    healthy(fast_runner)
    assert context_count() <= before_contexts
    assert threading.active_count() <= before_threads


def test_stack_overflow_is_a_normal_error(fast_runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="Maximum call stack size exceeded"):
        fast_runner.run_query("hostile:recurse", {})
    healthy(fast_runner)


def test_host_entry_points_cannot_be_tampered_with(fast_runner: FunctionRunner) -> None:
    out = fast_runner.run_query("hostile:tamper", {}).value
    assert out == {"strata": "object", "convex": "object", "syscallReplaced": False}
    healthy(fast_runner)


def test_write_from_a_dangling_promise_never_reaches_the_next_call(
    fast_runner: FunctionRunner,
) -> None:
    for _ in range(20):  # the late write would land in whichever call runs next on the isolate
        assert fast_runner.run_mutation("hostile:danglingWrite", {}).value == "returned"
        fast_runner.run_mutation("messages:send", {"channel": "c", "author": "a", "body": "b"})
    ghosts = fast_runner.run_query("messages:list", {"channel": "dangling"}).value
    assert ghosts == []
    assert len(fast_runner.run_query("messages:list", {"channel": "c"}).value) == 20
    healthy(fast_runner)
