"""API -> Celery (eager) -> local driver -> a real data-plane process, end to end."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx
import pytest

from controlplane.deployments.actions import purge_due
from controlplane.deployments.models import Deployment
from tenants.drivers.local import LocalDriver
from tenants.revocation import RevokedKeys

from .conftest import Caller

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def test_created_deployment_runs_and_survives_a_kill(
    team_owner: tuple[Caller, int],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, team_id = team_owner
    with django_capture_on_commit_callbacks(execute=True):
        created = caller.post(
            f"teams/{team_id}/create_project", {"projectName": "live", "deploymentType": "prod"}
        ).json()
    name, url = created["deploymentName"], created["deploymentUrl"]
    assert caller.get(f"deployments/{name}").json()["status"] == "running"
    assert httpx.get(f"{url}/instance_name", timeout=5).text == name
    assert httpx.get(f"{url}/version", timeout=5).status_code == 200

    pid = local_driver.state(name).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: local_driver.state(name).restarts >= 1)
    local_driver.wait_healthy(name)
    assert httpx.get(f"{url}/instance_name", timeout=5).text == name

    # Pause stops the process; unpause brings it back on the same URL.
    with django_capture_on_commit_callbacks(execute=True):
        assert caller.post(f"deployments/{name}/pause").json()["status"] == "paused"
    assert not local_driver.state(name).running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(f"deployments/{name}/unpause")
    assert caller.get(f"deployments/{name}").json()["status"] == "running"
    assert httpx.get(f"{url}/instance_name", timeout=5).text == name


def test_revoked_key_is_published_to_the_running_deployment(
    team_owner: tuple[Caller, int],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, team_id = team_owner
    with django_capture_on_commit_callbacks(execute=True):
        name = caller.post(
            f"teams/{team_id}/create_project", {"projectName": "keys", "deploymentType": "dev"}
        ).json()["deploymentName"]
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()
    deployment = Deployment.objects.get(name=name)
    revoked = RevokedKeys(local_driver.data_dir(name), deployment.instance_secret)
    assert not revoked.is_revoked(key["id"])
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(f"deployments/{name}/delete_deploy_key", {"id": key["id"]})
    assert revoked.is_revoked(key["id"])


def test_delete_stops_now_and_purges_after_grace(
    team_owner: tuple[Caller, int],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    caller, team_id = team_owner
    with django_capture_on_commit_callbacks(execute=True):
        name = caller.post(
            f"teams/{team_id}/create_project", {"projectName": "gone", "deploymentType": "dev"}
        ).json()["deploymentName"]
    data_dir = local_driver.data_dir(name)
    assert local_driver.state(name).healthy
    with django_capture_on_commit_callbacks(execute=True):
        assert caller.post(f"deployments/{name}/delete").json()["status"] == "deleted"
    assert not local_driver.state(name).running
    assert purge_due() == []  # inside the grace period the data stays
    assert data_dir.exists()
    Deployment.objects.filter(name=name).update(
        purge_after=Deployment.objects.get(name=name).deleted_at
    )
    assert purge_due() == [name]
    assert not data_dir.exists()
    assert Deployment.objects.get(name=name).port is None


def test_revoked_key_is_refused_by_the_running_data_plane(
    team_owner: tuple[Caller, int],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, team_id = team_owner
    with django_capture_on_commit_callbacks(execute=True):
        created = caller.post(
            f"teams/{team_id}/create_project", {"projectName": "rvk", "deploymentType": "dev"}
        ).json()
    name, url = created["deploymentName"], created["deploymentUrl"]
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()
    auth = {"Authorization": f"Convex {key['deployKey']}"}
    assert httpx.get(f"{url}/api/check_admin_key", headers=auth, timeout=10).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(f"deployments/{name}/delete_deploy_key", {"id": key["id"]})
    assert httpx.get(f"{url}/api/check_admin_key", headers=auth, timeout=10).status_code == 401
