"""A deployment created through the management API, used by the official Convex CLI and the
PyPI `convex` client at the URL the API returned; its process is killed and restarted with
no committed data lost."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from convex import ConvexClient

from tenants.drivers.local import LocalDriver
from tests.compat.conftest import CLI, copy_app

from .conftest import Caller

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def cli_deploy(app_dir: Path, url: str, key: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "STRATA_DP_"))}
    env.update(
        CONVEX_SELF_HOSTED_URL=url,
        CONVEX_SELF_HOSTED_ADMIN_KEY=key,
        CI="1",
        CONVEX_VERSION_API_ORIGIN="http://127.0.0.1:9",
        CONVEX_PROVISION_HOST="http://127.0.0.1:9",
        NO_COLOR="1",
        HOME=str(app_dir.parent / "home"),
    )
    proc = subprocess.run(
        ["node", str(CLI), "deploy", "--yes", "--typecheck", "disable"],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_api_deployment_serves_official_clients_and_survives_a_kill(
    team_owner: tuple[Caller, int],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    caller, team_id = team_owner
    with django_capture_on_commit_callbacks(execute=True):
        created = caller.post(
            f"teams/{team_id}/create_project", {"projectName": "tasks", "deploymentType": "prod"}
        ).json()
    name, url = created["deploymentName"], created["deploymentUrl"]
    key = caller.post(
        f"deployments/{name}/create_deploy_key",
        {"name": "ci", "allowedActions": ["deployment:deploy"]},
    ).json()["deployKey"]

    cli_deploy(copy_app("deploy_app", tmp_path / "work"), url, key)

    client = ConvexClient(url)
    client.mutation("tasks:add", {"owner": "ada", "text": "survive a crash"})
    assert client.query("tasks:list", {"owner": "ada"}) == [
        {"text": "survive a crash", "done": False, "priority": None}
    ]

    pid = local_driver.state(name).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while local_driver.state(name).restarts < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    local_driver.wait_healthy(name)

    fresh = ConvexClient(url)
    assert fresh.query("tasks:list", {"owner": "ada"}) == [
        {"text": "survive a crash", "done": False, "priority": None}
    ]
