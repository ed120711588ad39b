"""API -> Celery (eager) -> local driver -> a real data-plane process, end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contract.revocation import RevokedKeys
from controlplane.deployments.actions import purge_due
from controlplane.deployments.models import Deployment
from controlplane.provisioning.drivers.local import LocalDriver

from .conftest import Caller, kill_and_await_restart

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_created_deployment_runs_and_survives_a_kill(
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, _ = team_owner
    name, url = create_project("live", "prod")
    assert caller.get(f"deployments/{name}").json()["status"] == "running"
    assert httpx.get(f"{url}/instance_name", timeout=5).text == name
    assert httpx.get(f"{url}/version", timeout=5).status_code == 200

    kill_and_await_restart(local_driver, name)
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
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, _ = team_owner
    name, _url = create_project("keys", "dev")
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()
    deployment = Deployment.objects.get(name=name)
    revoked = RevokedKeys(local_driver.data_dir(name), deployment.instance_secret)
    assert not revoked.is_revoked(key["id"])
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(f"deployments/{name}/delete_deploy_key", {"id": key["id"]})
    assert revoked.is_revoked(key["id"])


def test_delete_stops_now_and_purges_after_grace(
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    caller, _ = team_owner
    name, _url = create_project("gone", "dev")
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
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, _ = team_owner
    name, url = create_project("rvk", "dev")
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "ci"}).json()
    auth = {"Authorization": f"Convex {key['deployKey']}"}
    assert httpx.get(f"{url}/api/check_admin_key", headers=auth, timeout=10).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(f"deployments/{name}/delete_deploy_key", {"id": key["id"]})
    assert httpx.get(f"{url}/api/check_admin_key", headers=auth, timeout=10).status_code == 401


def test_env_vars_set_by_the_cli_are_what_the_api_shows_and_survive_a_pause(
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The data plane holds the variables; `/v1` and the console read them from there."""
    caller, _ = team_owner
    name, url = create_project("envs", "dev")
    key = caller.post(f"deployments/{name}/create_deploy_key", {"name": "cli"}).json()
    cli = {"Authorization": f"Convex {key['deployKey']}"}

    def cli_set(changes: list[dict[str, str | None]]) -> None:  # what `npx convex env set` sends
        r = httpx.post(
            f"{url}/api/update_environment_variables",
            json={"changes": changes},
            headers=cli,
            timeout=10,
        )
        assert r.status_code == 200, r.text

    def api_env() -> dict[str, str]:
        items = caller.get(f"deployments/{name}/list_environment_variables").json()["items"]
        return {i["name"]: i["value"] for i in items}

    def data_plane_env() -> dict[str, str]:
        r = httpx.get(f"{url}/api/list_environment_variables", headers=cli, timeout=10)
        return dict(r.json()["environmentVariables"])

    with django_capture_on_commit_callbacks(execute=True):
        r = caller.post(
            f"deployments/{name}/update_environment_variables",
            {"changes": [{"name": "FROM_CONSOLE", "value": "1"}]},
        )
    assert r.status_code == 200
    cli_set([{"name": "FROM_CLI", "value": "2"}])
    assert api_env() == {"FROM_CONSOLE": "1", "FROM_CLI": "2"}
    cli_set([{"name": "FROM_CONSOLE", "value": None}, {"name": "FROM_CLI", "value": "3"}])
    assert api_env() == {"FROM_CLI": "3"}

    # A CLI change nobody listed before the pause is neither lost nor reverted on resume.
    cli_set([{"name": "LATE", "value": "4"}])
    with django_capture_on_commit_callbacks(execute=True):
        assert caller.post(f"deployments/{name}/pause").json()["status"] == "paused"
    assert api_env() == {"FROM_CLI": "3", "LATE": "4"}  # the copy, while nothing runs
    with django_capture_on_commit_callbacks(execute=True):
        caller.post(f"deployments/{name}/unpause")
    assert data_plane_env() == {"FROM_CLI": "3", "LATE": "4"}
    assert api_env() == {"FROM_CLI": "3", "LATE": "4"}
