"""End to end against real server processes: the official CLI deploys scheduler_app (with its
crons) and the official Python client schedules work; a SIGKILLed server loses no job."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from convex.http_client import ConvexHttpClient

from tests.compat.conftest import ConvexCli, Server, copy_app, start_server

from .conftest import wait_for


def deploy(server: Server, tmp_path: Path) -> ConvexCli:
    cli = ConvexCli(server, copy_app("scheduler_app", tmp_path / "work"))
    cli.deploy()
    return cli


def job_state(client: ConvexHttpClient, job_id: str) -> Any:
    doc = client.query("jobs:job", {"id": job_id})
    return None if doc is None else doc["state"]["kind"]


def test_cli_deployed_crons_run_and_redeploy_replaces_them(tmp_path: Path) -> None:
    server = start_server(tmp_path / "deployment", name="sched-cli")
    try:
        cli = deploy(server, tmp_path)
        client = ConvexHttpClient(server.url)
        assert sorted(client.query("jobs:cronJobs")) == ["nightly", "tick"]
        wait_for(
            lambda: client.query("jobs:cronLogs").count("cron-tick") >= 2,
            timeout=30,
            what="interval cron runs",
        )
        history = client.query("jobs:cronHistory")
        assert {"name": "tick", "status": "success"} in history
        # `convex run` of a scheduling mutation through the CLI, delivered by the server
        out = cli.run("run", "jobs:schedule", '{"body": "from-cli", "delayMs": 0}')
        job_id = out.stdout.strip().strip('"')
        wait_for(lambda: job_state(client, job_id) == "success", what="CLI-scheduled job")
        # Redeploy without the interval cron: replaced atomically with the new code.
        crons_ts = cli.app_dir / "convex" / "crons.ts"
        crons_ts.write_text(
            crons_ts.read_text().replace(
                'crons.interval("tick", { seconds: 1 }, internal.jobs.addNote, '
                '{ body: "cron-tick" });\n',
                "",
            )
        )
        cli.deploy()
        assert client.query("jobs:cronJobs") == ["nightly"]
    finally:
        server.stop()


def test_killed_server_loses_no_pending_job(tmp_path: Path) -> None:
    data_dir = tmp_path / "deployment"
    server = start_server(data_dir, name="sched-crash")
    try:
        deploy(server, tmp_path)
        client = ConvexHttpClient(server.url)
        ids = [
            client.mutation("jobs:schedule", {"body": f"survivor-{i}", "delayMs": 2500.0})
            for i in range(3)
        ]
        assert {job_state(client, i) for i in ids} == {"pending"}
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=15)
    finally:
        server.stop()
    restarted = start_server(data_dir, name="sched-crash")
    try:
        client = ConvexHttpClient(restarted.url)
        wait_for(
            lambda: {job_state(client, i) for i in ids} == {"success"},
            timeout=30,
            what="pending jobs delivered after restart",
        )
        bodies = client.query("jobs:notes")
        for i in range(3):
            assert bodies.count(f"survivor-{i}") == 1
    finally:
        restarted.stop()
