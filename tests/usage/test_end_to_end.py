"""Usage end to end: a real control plane (live HTTP server) provisions a real data-plane
process through the local driver; the official CLI deploys code; calls to the deployment show
up in the /v1 usage API, per deployment and per team; a team over a tiny quota gets paused."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from controlplane.teams.models import Team
from controlplane.usage import quotas
from tenants.drivers import set_driver
from tenants.drivers.local import LocalDriver
from tests.compat.conftest import CLI, copy_app
from tests.controlplane.conftest import Caller, sign_up_and_login

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[LocalDriver]:
    driver = LocalDriver(tmp_path / "deployments", port_range=(26000, 26999))
    previous = set_driver(driver)
    try:
        yield driver
    finally:
        driver.shutdown()
        set_driver(previous)


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


def new_team(email: str, name: str) -> tuple[Caller, int]:
    caller = sign_up_and_login(email)
    r = caller.post("teams/create_team", {"name": name})
    assert r.status_code == 201, r.content
    return caller, r.json()["id"]


def test_calls_are_metered_into_the_usage_api_and_over_quota_pauses(
    live_server: Any,
    settings: Any,
    driver: LocalDriver,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    settings.STRATA_CONTROL_PLANE_URL = live_server.url
    monkeypatch.setenv("STRATA_DP_USAGE_INTERVAL", "0.5")  # passed through to data planes
    caller, team_id = new_team("owner@metered.test", "Metered")
    outsider, outsider_team = new_team("owner@elsewhere.test", "Elsewhere")
    created = caller.post(
        f"teams/{team_id}/create_project", {"projectName": "tasks", "deploymentType": "prod"}
    ).json()
    name, url = created["deploymentName"], created["deploymentUrl"]
    assert caller.get(f"deployments/{name}").json()["status"] == "running"
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()["deployKey"]
    deploy(copy_app("deploy_app", tmp_path / "work"), url, key)

    for i in range(5):
        call(url, "mutation", "tasks:add", {"owner": "ada", "text": f"task {i} " + "x" * 200})
    for _ in range(3):
        assert len(call(url, "query", "tasks:list", {"owner": "ada"})) == 5

    def usage() -> dict[str, Any]:
        r = caller.get(f"deployments/{name}/usage")
        assert r.status_code == 200, r.content
        body: dict[str, Any] = r.json()
        return body

    wait_for(lambda: usage()["function_calls"] >= 8 and usage()["db_bytes_read"] > 0)
    mine = usage()
    assert mine["db_bytes_written"] > 5 * 200  # the five documents, texts included
    team = caller.get(f"teams/{team_id}/usage").json()
    assert team["usage"]["function_calls"] == mine["function_calls"]
    assert team["usage"]["db_bytes_written"] == mine["db_bytes_written"]
    assert team["overQuota"] == []
    # Another team sees neither the deployment's usage nor any of it in its own.
    assert outsider.get(f"deployments/{name}/usage").status_code in (403, 404)
    assert outsider.get(f"teams/{outsider_team}/usage").json()["usage"]["function_calls"] == 0

    # A tiny plan: a few more calls put the team over it and the control plane pauses it.
    limit = mine["function_calls"] + 3
    monkeypatch.setitem(quotas.PLANS, "tiny", quotas.Plan("tiny", 5, limit, None, None, None))
    Team.objects.filter(pk=team_id).update(plan="tiny")

    def paused_after_a_call() -> bool:
        if caller.get(f"deployments/{name}").json()["status"] == "paused":
            return True
        with contextlib.suppress(httpx.TransportError):  # being stopped right now
            call(url, "query", "tasks:list", {"owner": "ada"})
        return False

    wait_for(paused_after_a_call)
    status = caller.get(f"deployments/{name}").json()
    assert "monthly function calls" in status["statusReason"], status
    wait_for(lambda: not driver.state(name).running)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/instance_name", timeout=2)
    team = caller.get(f"teams/{team_id}/usage").json()
    assert team["usage"]["function_calls"] > limit
    assert team["overQuota"] and "function calls" in team["overQuota"][0]
    assert caller.post(f"deployments/{name}/unpause").status_code == 402
