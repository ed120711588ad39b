"""The scheduler on PostgreSQL and MySQL storage: delivery, exactly-once and crons survive a
reopen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dataplane.runtime import AppAnalysis, Bundle
from dataplane.scheduled import crons

from .conftest import make_deployment, wait_for


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_jobs_and_crons_on_server_databases_survive_reopen(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    sched_bundle: Bundle,
    sched_analysis: AppAnalysis,
) -> None:
    database_url = request.getfixturevalue(f"{backend}_url")
    d = make_deployment(tmp_path, f"sched-{backend}", database_url)
    d.runner.activate(sched_bundle, sched_analysis, {})
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
    reopened = make_deployment(tmp_path, f"sched-{backend}", database_url)
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
