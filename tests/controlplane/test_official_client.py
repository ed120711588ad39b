"""A deployment created through the management API, used by the official Convex CLI (deploy,
`convex run`) and the PyPI `convex` client (WebSocket) at the URL the API returned, with the scoped
deploy key the API minted; its process is killed and restarted with no committed data lost."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from convex import ConvexClient

from controlplane.provisioning.drivers.local import LocalDriver
from tests.compat.conftest import CLI, copy_app

from .conftest import Caller, kill_and_await_restart

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def cli(app_dir: Path, url: str, key: str, *args: str) -> str:
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
        ["node", str(CLI), *args], cwd=app_dir, env=env, capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_api_deployment_serves_official_clients_and_survives_a_kill(
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    caller, _ = team_owner
    name, url = create_project("tasks", "prod")
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()["deployKey"]
    app = copy_app("deploy_app", tmp_path / "work")
    cli(app, url, key, "deploy", "--yes", "--typecheck", "disable")
    cli(app, url, key, "run", "tasks:add", '{"owner": "ada", "text": "survive a crash"}')
    expected = [{"text": "survive a crash", "done": False, "priority": None}]
    assert json.loads(cli(app, url, key, "run", "tasks:list", '{"owner": "ada"}')) == expected
    client = ConvexClient(url)  # the PyPI client, over the sync WebSocket
    client.mutation("tasks:add", {"owner": "ada", "text": "and another"})
    expected.append({"text": "and another", "done": False, "priority": None})
    assert client.query("tasks:list", {"owner": "ada"}) == expected

    kill_and_await_restart(local_driver, name)

    assert json.loads(cli(app, url, key, "run", "tasks:list", '{"owner": "ada"}')) == expected
    assert ConvexClient(url).query("tasks:list", {"owner": "ada"}) == expected


def test_deploy_key_scoped_to_env_cannot_deploy(
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    caller, _ = team_owner
    name, url = create_project("scoped", "dev")
    key = caller.post(
        f"deployments/{name}/create_deploy_key",
        {"name": "env-only", "allowedActions": ["deployment:env:view"]},
    ).json()["deployKey"]
    app = copy_app("deploy_app", tmp_path / "work")
    with pytest.raises(AssertionError, match="may not perform 'deploy'"):
        cli(app, url, key, "deploy", "--yes", "--typecheck", "disable")
