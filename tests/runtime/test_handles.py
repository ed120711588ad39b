"""Function handles at the runner level: createFunctionHandle, storing handles in documents,
and calling through them with ctx.runQuery/runMutation/runAction and ctx.scheduler."""

from __future__ import annotations

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import (
    FunctionError,
    FunctionRunner,
)
from dataplane.scheduler.executor import run_job


def _scheduled_name(deployment: DeploymentApp, job_id: str) -> str:
    txn = deployment.db.begin()
    job = txn.get(job_id)
    assert job is not None, job_id
    return str(job["name"])


def test_handles_are_created_for_internal_functions_and_stored(hrunner: FunctionRunner) -> None:
    made = hrunner.run_mutation("handles:saveHandles", {}).value
    assert made == {
        "record": "function://handles:record",
        "tags": "function://handles:tags",
        "double": "function://handles:double",
    }
    assert hrunner.run_query("handles:stored", {}).value == made
    assert hrunner.run_query("handles:handleFor", {"name": "handles.js:tags"}).value == (
        "function://handles:tags"
    )


def test_stored_handles_work_from_an_action(
    hrunner: FunctionRunner, hdeploy: DeploymentApp
) -> None:
    hrunner.run_mutation("handles:saveHandles", {})
    out = hrunner.run_action("handles:useStored", {}).value
    assert out["doubled"] == 42
    assert out["tags"] == ["from-action"]
    assert _scheduled_name(hdeploy, out["jobId"]) == "handles:record"


def test_handles_in_mutations_run_and_schedule(
    hrunner: FunctionRunner, hdeploy: DeploymentApp
) -> None:
    out = hrunner.run_mutation(
        "handles:useInMutation", {"handle": "function://handles:record", "tag": "m"}
    ).value
    assert isinstance(out["id"], str)
    assert _scheduled_name(hdeploy, out["jobId"]) == "handles:record"
    tags = hrunner.run_action("handles:queryHandle", {"handle": "function://handles:tags"})
    assert tags.value == ["m"]


def test_unknown_or_malformed_handles_are_clear_errors(hrunner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="could not find function for 'nope:missing'"):
        hrunner.run_query("handles:handleFor", {"name": "nope:missing"})
    with pytest.raises(FunctionError, match="does not name a deployed function"):
        hrunner.run_action("handles:queryHandle", {"handle": "function://handles:gone"})
    with pytest.raises(FunctionError, match="does not name a deployed function"):
        hrunner.run_mutation("handles:useInMutation", {"handle": "function://", "tag": "x"})
    # A handle to a query used where a mutation is expected fails with the kind mismatch.
    with pytest.raises(FunctionError, match="defined as Query"):
        hrunner.run_mutation(
            "handles:useInMutation", {"handle": "function://handles:tags", "tag": "x"}
        )
    # Nothing was written or scheduled by the failed mutations.
    assert (
        hrunner.run_action("handles:queryHandle", {"handle": "function://handles:tags"}).value == []
    )


def test_a_scheduled_query_is_accepted_and_its_job_fails_when_due(
    hrunner: FunctionRunner, hdeploy: DeploymentApp
) -> None:
    # As on Convex: scheduling checks only that the function exists; the due job of a query
    # is then marked failed without running it.
    job_id = hrunner.run_mutation(
        "handles:scheduleHandle", {"handle": "function://handles:tags"}
    ).value
    assert _scheduled_name(hdeploy, job_id) == "handles:tags"
    assert run_job(hrunner, hdeploy.db, job_id) == "failed"
    job = hdeploy.db.begin().get(job_id)
    assert job is not None
    assert job["state"] == {
        "kind": "failed",
        "error": 'Unsupported function type. "tags" in module "handles.js" is defined as a '
        "Query. Only Mutation and Action can be scheduled.",
    }
    assert run_job(hrunner, hdeploy.db, job_id) is None  # finished: never run again


def test_scheduling_through_bad_handles_is_refused(hrunner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="does not name a deployed function"):
        hrunner.run_mutation("handles:scheduleHandle", {"handle": "function://other:fn"})
