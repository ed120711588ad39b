"""The scheduler on PostgreSQL storage: delivery, exactly-once and crons survive a reopen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataplane.app import DeploymentApp
from dataplane.runtime import AppAnalysis, Bundle
from dataplane.scheduled import crons

from .conftest import make_deployment, wait_for


def test_jobs_and_crons_on_postgres_survive_reopen(
    tmp_path: Path,
    pg_deployment: DeploymentApp,
    postgres_url: str,
    sched_bundle: Bundle,
    sched_analysis: AppAnalysis,
) -> None:
    d = pg_deployment
    d.runner.run_mutation("jobs:scheduleBumps", {"key": "pg", "n": 5.0})
    specs: dict[str, Any] = {
        "hourly": {
            "name": "jobs:addNote",
            "args": [{"body": "cron-pg"}],
            "schedule": {"type": "hourly", "minuteUTC": 7},
        }
    }
    d.db.run_mutation(lambda txn: crons.register(txn, specs))
    d.close()  # "crash" before anything ran: the jobs exist only in the database
    reopened = make_deployment(tmp_path, "sched-pg", postgres_url)
    try:
        reopened.runner.activate(sched_bundle, sched_analysis, {})
        reopened.scheduler.start()

        def states() -> set[str]:
            docs = reopened.runner.run_query("jobs:jobs", {}).value_json
            return {doc["state"]["kind"] for doc in docs}

        wait_for(lambda: states() == {"success"}, what="jobs delivered after reopen")
        assert reopened.runner.run_query("jobs:counter", {"key": "pg"}).value_json == 5
        cron_names = reopened.runner.run_query("jobs:cronJobs", {}).value_json
        assert cron_names == ["hourly"]
    finally:
        reopened.close()
