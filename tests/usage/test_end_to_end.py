"""Usage end to end: a real control plane (daphne serving its own PostgreSQL database, its local
driver starting real data-plane processes); the official CLI deploys code; calls to the
deployment reach the /v1 usage API through the data plane's signed reports, per deployment and
per team; a team switched to a tiny plan is paused by the control plane once over it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.compat.conftest import CLI, copy_app
from tests.terraform.live_control_plane import PASSWORD, ControlPlane, running_control_plane

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TINY_CALLS = 40  # the "tiny" plan's monthly function calls (see tiny_plan_server.py)


@pytest.fixture
def control_plane(tmp_path: Path) -> Iterator[ControlPlane]:
    extra = {"STRATA_DP_USAGE_INTERVAL": "0.5", "STRATA_TEST_TINY_CALLS": str(TINY_CALLS)}
    with running_control_plane(
        tmp_path / "cp", extra, server_module="tests.usage.tiny_plan_server"
    ) as cp:
        yield cp


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached")


def deploy(app: Path, url: str, key: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "STRATA_DP_"))}
    env.update(
        CONVEX_SELF_HOSTED_URL=url,
        CONVEX_SELF_HOSTED_ADMIN_KEY=key,
        CI="1",
        CONVEX_VERSION_API_ORIGIN="http://127.0.0.1:9",
        CONVEX_PROVISION_HOST="http://127.0.0.1:9",
        NO_COLOR="1",
        HOME=str(app.parent / "home"),
    )
    argv = ["node", str(CLI), "deploy", "--yes", "--typecheck", "disable"]
    proc = subprocess.run(argv, cwd=app, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def call(url: str, kind: str, path: str, args: dict[str, Any]) -> Any:
    r = httpx.post(f"{url}/api/{kind}", json={"path": path, "args": args, "format": "json"})
    assert r.status_code == 200 and r.json()["status"] == "success", r.text
    return r.json()["value"]


def outsider(cp: ControlPlane) -> tuple[httpx.Client, int]:
    """Another user with a team of their own on the same control plane."""
    anon = httpx.Client(base_url=cp.url, timeout=60)
    email = "outsider@elsewhere.test"
    assert anon.post("/v1/auth/sign_up", json={"email": email, "password": PASSWORD}).is_success
    r = anon.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    client = httpx.Client(base_url=f"{cp.url}/v1/", timeout=60, headers=headers)
    team = client.post("teams/create_team", json={"name": "Elsewhere"}).json()["id"]
    return client, team


def test_calls_are_metered_into_the_usage_api_and_over_quota_pauses(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    cp = control_plane
    r = cp.post(
        f"teams/{cp.team_id}/create_project", {"projectName": "tasks", "deploymentType": "prod"}
    )
    assert r.status_code == 201, r.text
    name, url = r.json()["deploymentName"], r.json()["deploymentUrl"]
    wait_for(lambda: cp.get(f"deployments/{name}").json()["status"] == "running")
    key = cp.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()["deployKey"]
    deploy(copy_app("deploy_app", tmp_path / "work"), url, key)

    for i in range(5):
        call(url, "mutation", "tasks:add", {"owner": "ada", "text": f"task {i} " + "x" * 200})
    for _ in range(3):
        assert len(call(url, "query", "tasks:list", {"owner": "ada"})) == 5

    def usage() -> dict[str, Any]:
        r = cp.get(f"deployments/{name}/usage")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    wait_for(lambda: usage()["functionCalls"] >= 8 and usage()["dbBytesRead"] > 0)
    mine = usage()
    assert mine["dbBytesWritten"] > 5 * 200  # the five documents, texts included
    assert mine["functionCalls"] < TINY_CALLS
    team = cp.get(f"teams/{cp.team_id}/usage").json()
    assert team["plan"] == "free" and team["overQuota"] == []
    assert team["usage"]["functionCalls"] >= mine["functionCalls"]
    assert team["usage"]["dbBytesWritten"] >= mine["dbBytesWritten"]
    # Another team sees neither the deployment's usage nor any of it in its own.
    other, other_team = outsider(cp)
    assert other.get(f"deployments/{name}/usage").status_code == 404
    assert other.get(f"teams/{other_team}/usage").json()["usage"]["functionCalls"] == 0

    # On the tiny plan, a few more calls put the team over it: the control plane pauses it.
    with psycopg.connect(cp.database_url, autocommit=True) as conn:
        conn.execute("UPDATE strata_teams_team SET plan = 'tiny' WHERE id = %s", (cp.team_id,))

    def paused_after_a_call() -> bool:
        if cp.get(f"deployments/{name}").json()["status"] == "paused":
            return True
        with contextlib.suppress(httpx.TransportError):  # being stopped right now
            call(url, "query", "tasks:list", {"owner": "ada"})
        return False

    wait_for(paused_after_a_call, timeout=120)
    status = cp.get(f"deployments/{name}").json()
    assert "monthly function calls" in status["statusReason"], status

    def stopped() -> bool:
        try:
            httpx.get(f"{url}/instance_name", timeout=2)
        except httpx.TransportError:
            return True
        return False

    wait_for(stopped)
    team = cp.get(f"teams/{cp.team_id}/usage").json()
    assert team["plan"] == "tiny" and team["usage"]["functionCalls"] > TINY_CALLS
    assert team["overQuota"] and "function calls" in team["overQuota"][0]
    r = cp.post(f"deployments/{name}/unpause")
    assert r.status_code == 402 and r.json()["code"] == "QuotaExceeded"
    assert other.get(f"teams/{other_team}/usage").json()["overQuota"] == []
