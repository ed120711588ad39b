"""Crons registered in a transaction, run by the reconciler, replaced atomically, logged."""

from __future__ import annotations

from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.scheduled import crons
from dataplane.scheduled.tables import CRON_JOBS, CRON_LOGS

from .conftest import wait_for


def rows(d: DeploymentApp, table: str) -> list[dict[str, Any]]:
    txn = d.db.begin()
    if table not in d.db.table_names():
        return []
    return list(txn.table_scan(table))


def register(d: DeploymentApp, specs: dict[str, Any]) -> dict[str, list[str]]:
    diff, _ = d.db.run_mutation(lambda txn: crons.register(txn, specs))
    return diff


def notes(d: DeploymentApp) -> list[str]:
    return list(d.runner.run_query("jobs:notes", {}).value_json)


def test_register_and_run_interval_cron_with_history(deployment: DeploymentApp) -> None:
    app = deployment.runner.analysis
    assert app is not None
    diff = register(deployment, app.crons)
    assert sorted(diff["added"]) == ["nightly", "tick"]
    deployment.scheduler.start()
    wait_for(lambda: notes(deployment).count("cron-tick") >= 2, what="two cron runs")
    logs = [r for r in rows(deployment, CRON_LOGS) if r["name"] == "tick"]
    assert len(logs) >= 2
    assert {r["status"]["type"] for r in logs} == {"success"}
    assert logs[0]["udfPath"] == "jobs:addNote"
    assert logs[1]["ts"] >= logs[0]["ts"] + 1000  # interval: one period after the previous run
    assert "cron-nightly" not in notes(deployment)  # not due today before 03:15 tomorrow


def test_redeploy_replaces_crons_atomically(deployment: DeploymentApp) -> None:
    app = deployment.runner.analysis
    assert app is not None
    register(deployment, app.crons)
    before = {r["name"]: r for r in rows(deployment, CRON_JOBS)}
    changed = dict(app.crons)
    changed.pop("tick")
    changed["nightly"] = {**changed["nightly"], "args": [{"body": "cron-changed"}]}
    changed["fresh"] = {
        "name": "jobs:addNote",
        "args": [{"body": "cron-fresh"}],
        "schedule": {"type": "cron", "cron": "0 0 1 1 *"},
    }
    diff = register(deployment, changed)
    assert diff == {"added": ["fresh"], "updated": ["nightly"], "deleted": ["tick"]}
    after = {r["name"]: r for r in rows(deployment, CRON_JOBS)}
    assert sorted(after) == ["fresh", "nightly"]
    assert after["nightly"]["_id"] == before["nightly"]["_id"]
    assert after["nightly"]["cronSpec"]["udfArgs"] == [{"body": "cron-changed"}]
    # an identical redeploy changes nothing
    assert register(deployment, changed) == {"added": [], "updated": [], "deleted": []}
    assert register(deployment, {}) == {"added": [], "updated": [], "deleted": ["fresh", "nightly"]}
    assert rows(deployment, CRON_JOBS) == []


def test_failed_registration_leaves_previous_crons(deployment: DeploymentApp) -> None:
    app = deployment.runner.analysis
    assert app is not None
    register(deployment, app.crons)
    bad = {
        "oops": {
            "name": "jobs:addNote",
            "args": [{}],
            "schedule": {"type": "hourly", "minuteUTC": 99},
        }
    }
    with pytest.raises(crons.CronError, match="minuteUTC"):
        register(deployment, bad)
    assert sorted(r["name"] for r in rows(deployment, CRON_JOBS)) == ["nightly", "tick"]


def test_failing_cron_is_logged_as_error(deployment: DeploymentApp) -> None:
    register(
        deployment,
        {
            "boom": {
                "name": "jobs:failing",
                "args": [{"body": "c"}],
                "schedule": {"type": "interval", "seconds": 3600},
            }
        },
    )
    deployment.scheduler.start()
    logs = wait_for(lambda: rows(deployment, CRON_LOGS), what="cron log")
    assert logs[0]["status"]["type"] == "err"
    assert "scheduled boom c" in logs[0]["status"]["error"]
    assert notes(deployment) == []  # the failed run's writes were rolled back
    job = rows(deployment, CRON_JOBS)[0]
    assert job["nextTs"] == job["prevTs"] + 3_600_000


def test_action_cron_runs_and_is_logged(deployment: DeploymentApp) -> None:
    register(
        deployment,
        {
            "act": {
                "name": "jobs:noteFromAction",
                "args": [{"body": "cron"}],
                "schedule": {"type": "interval", "minutes": 60},
            }
        },
    )
    deployment.scheduler.start()
    logs = wait_for(lambda: rows(deployment, CRON_LOGS), what="action cron log")
    assert [(r["name"], r["status"]["type"]) for r in logs] == [("act", "success")]
    assert notes(deployment) == ["action:cron"]


def test_component_crons_are_keyed_by_instance(deployment: DeploymentApp) -> None:
    job = {
        "name": "_components/a/jobs:addNote",
        "args": [{"body": "x"}],
        "schedule": {"type": "cron", "cron": "0 0 1 1 *"},
    }
    same_name = {"a": {"cleanup": job}, "b": {"cleanup": {**job, "name": "_components/b/j:f"}}}
    diff, _ = deployment.db.run_mutation(lambda txn: crons.register(txn, {}, same_name))
    assert diff["added"] == ["a/cleanup", "b/cleanup"]
    jobs = {(r.get("component"), r["name"]): r for r in rows(deployment, CRON_JOBS)}
    assert set(jobs) == {("a", "cleanup"), ("b", "cleanup")}
    assert jobs[("b", "cleanup")]["cronSpec"]["udfPath"] == "_components/b/j:f"
    # re-registering the same set changes nothing; dropping an instance drops its crons only
    diff, _ = deployment.db.run_mutation(lambda txn: crons.register(txn, {}, same_name))
    assert diff == {"added": [], "updated": [], "deleted": []}
    only_a = {"a": same_name["a"]}
    diff, _ = deployment.db.run_mutation(lambda txn: crons.register(txn, {}, only_a))
    assert diff["deleted"] == ["b/cleanup"]
    assert [(r.get("component"), r["name"]) for r in rows(deployment, CRON_JOBS)] == [
        ("a", "cleanup")
    ]
