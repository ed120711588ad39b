"""ctx.scheduler against real V8 and a real SQLite database: scheduling is transactional,
jobs run with Convex's states, mutations exactly once, actions at most once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import FunctionError
from dataplane.scheduled import jobs
from dataplane.scheduled.tables import SCHEDULED
from dataplane.scheduler import executor

from .conftest import wait_for


def q(d: DeploymentApp, path: str, args: dict[str, Any] | None = None) -> Any:
    return d.runner.run_query(path, args or {}).value_json


def m(d: DeploymentApp, path: str, args: dict[str, Any] | None = None) -> Any:
    return d.runner.run_mutation(path, args or {}).value_json


def job_state(d: DeploymentApp, job_id: str) -> str:
    doc = q(d, "jobs:job", {"id": job_id})
    return str(doc["state"]["kind"])


def test_scheduled_job_is_a_pending_system_document(deployment: DeploymentApp) -> None:
    before = time.time() * 1000
    job_id = m(deployment, "jobs:schedule", {"body": "later", "delayMs": 60_000.0})
    assert isinstance(job_id, str)
    doc = q(deployment, "jobs:job", {"id": job_id})
    assert doc["name"] == "jobs:addNote"
    assert doc["args"] == [{"body": "later"}]
    assert doc["state"] == {"kind": "pending"}
    assert before + 59_000 <= doc["scheduledTime"] <= time.time() * 1000 + 61_000
    assert "completedTime" not in doc
    assert [j["_id"] for j in q(deployment, "jobs:jobs")] == [job_id]


def test_scheduler_runs_due_mutation_and_marks_success(deployment: DeploymentApp) -> None:
    deployment.scheduler.start()
    job_id = m(deployment, "jobs:schedule", {"body": "soon", "delayMs": 0.0})
    wait_for(lambda: job_state(deployment, job_id) == "success", what="job success")
    assert sorted(q(deployment, "jobs:notes")) == ["scheduler:soon", "soon"]
    doc = q(deployment, "jobs:job", {"id": job_id})
    assert doc["completedTime"] >= doc["scheduledTime"]


def test_run_at_absolute_time(deployment: DeploymentApp) -> None:
    deployment.scheduler.start()
    job_id = m(deployment, "jobs:scheduleAt", {"body": "at", "atMs": time.time() * 1000 + 200})
    wait_for(lambda: job_state(deployment, job_id) == "success", what="runAt job")
    assert q(deployment, "jobs:notes") == ["at"]


def test_rolled_back_mutation_schedules_nothing(deployment: DeploymentApp) -> None:
    with pytest.raises(FunctionError, match="rolled back"):
        m(deployment, "jobs:scheduleThenFail", {"body": "ghost"})
    assert q(deployment, "jobs:jobs") == []
    deployment.scheduler.start()
    assert deployment.scheduler.tick() > 0
    assert q(deployment, "jobs:notes") == []


def test_cancel_pending_job_never_runs(deployment: DeploymentApp) -> None:
    job_id = m(deployment, "jobs:schedule", {"body": "x", "delayMs": 0.0})
    m(deployment, "jobs:cancel", {"id": job_id})
    doc = q(deployment, "jobs:job", {"id": job_id})
    assert doc["state"] == {"kind": "canceled"}
    assert executor.run_job(deployment.runner, deployment.db, job_id) is None
    assert q(deployment, "jobs:notes") == ["scheduler:x"]
    # cancelling a finished job is a no-op, a bad id is a clear error
    m(deployment, "jobs:cancel", {"id": job_id})
    with pytest.raises(FunctionError, match="_scheduled_functions"):
        m(deployment, "jobs:cancel", {"id": "not-an-id"})


def test_mutation_job_that_cancels_itself_ends_canceled(deployment: DeploymentApp) -> None:
    job_id = m(deployment, "jobs:scheduleSelfCanceling")
    assert executor.run_job(deployment.runner, deployment.db, job_id) == "canceled"
    assert q(deployment, "jobs:job", {"id": job_id})["state"] == {"kind": "canceled"}
    assert q(deployment, "jobs:notes") == ["canceled myself"]
    assert executor.run_job(deployment.runner, deployment.db, job_id) is None


def test_failed_mutation_job_records_error_and_rolls_back(deployment: DeploymentApp) -> None:
    job_id = m(deployment, "jobs:schedule", {"body": "bad", "delayMs": 0.0, "fn": "failing"})
    assert executor.run_job(deployment.runner, deployment.db, job_id) == "failed"
    doc = q(deployment, "jobs:job", {"id": job_id})
    assert doc["state"]["kind"] == "failed"
    assert "scheduled boom bad" in doc["state"]["error"]
    assert q(deployment, "jobs:notes") == ["scheduler:bad"]  # the job's own insert was undone


def test_scheduling_a_missing_function_is_an_error(deployment: DeploymentApp) -> None:
    with pytest.raises(FunctionError, match="nonexistent path"):
        m(deployment, "jobs:scheduleMissing")
    assert q(deployment, "jobs:jobs") == []


def test_action_job_runs_once_and_actions_can_schedule(deployment: DeploymentApp) -> None:
    deployment.scheduler.start()
    job_id = m(deployment, "jobs:schedule", {"body": "a", "delayMs": 0.0, "fn": "action"})
    wait_for(lambda: job_state(deployment, job_id) == "success", what="action job")
    assert executor.run_job(deployment.runner, deployment.db, job_id) is None
    from_action = deployment.runner.run_action("jobs:scheduleFromAction", {"body": "b"}).value_json
    wait_for(lambda: job_state(deployment, from_action) == "success", what="job from action")
    assert sorted(q(deployment, "jobs:notes")) == ["action:a", "from-action:b", "scheduler:a"]


def test_mutation_jobs_run_exactly_once_under_concurrent_dispatchers(
    deployment: DeploymentApp,
) -> None:
    m(deployment, "jobs:scheduleBumps", {"key": "k", "n": 12.0})
    ids = [j["_id"] for j in q(deployment, "jobs:jobs")]
    assert len(ids) == 12
    results: list[str | None] = []
    lock = threading.Lock()

    def dispatcher(order: list[str]) -> None:
        for job_id in order:
            r = executor.run_job(deployment.runner, deployment.db, job_id)
            with lock:
                results.append(r)

    threads = [
        threading.Thread(target=dispatcher, args=(ids if i % 2 else ids[::-1],)) for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results.count("success") == 12  # each job ran in exactly one dispatcher
    assert q(deployment, "jobs:counter", {"key": "k"}) == 12
    assert {job_state(deployment, i) for i in ids} == {"success"}


def test_two_schedulers_on_one_database_deliver_each_job_once(deployment: DeploymentApp) -> None:
    from dataplane.scheduler.service import Scheduler

    other = Scheduler(deployment.db, deployment.runner, name="other")
    deployment.scheduler.start()
    other.start()
    try:
        m(deployment, "jobs:scheduleBumps", {"key": "two", "n": 10.0})
        ids = [j["_id"] for j in q(deployment, "jobs:jobs")]
        wait_for(
            lambda: all(job_state(deployment, i) == "success" for i in ids), what="all jobs done"
        )
    finally:
        other.stop()
    assert q(deployment, "jobs:counter", {"key": "two"}) == 10


def test_restart_fails_interrupted_actions_and_runs_pending_mutations(
    deployment: DeploymentApp,
) -> None:
    action_id = m(deployment, "jobs:schedule", {"body": "cut", "delayMs": 0.0, "fn": "action"})
    mutation_id = m(deployment, "jobs:schedule", {"body": "kept", "delayMs": 0.0})

    def mark_running(txn: Any) -> None:  # what the executor commits before starting an action
        txn.patch(action_id, {"state": {"kind": jobs.IN_PROGRESS}})

    deployment.db.run_mutation(mark_running)
    deployment.scheduler.start()  # the "restarted process"
    wait_for(lambda: job_state(deployment, mutation_id) == "success", what="pending mutation")
    doc = q(deployment, "jobs:job", {"id": action_id})
    assert doc["state"]["kind"] == "failed"
    assert "Transient error" in doc["state"]["error"]
    assert "action:cut" not in q(deployment, "jobs:notes")  # never re-run


def test_system_table_is_read_only_to_user_code(deployment: DeploymentApp) -> None:
    job_id = m(deployment, "jobs:schedule", {"body": "x", "delayMs": 60_000.0})
    txn = deployment.db.begin()
    assert txn.table_for_id(job_id) == SCHEDULED
    with pytest.raises(ValueError, match="Scheduled time"):
        jobs.schedule(deployment.db.begin(), "jobs:addNote", {}, float("nan"))
