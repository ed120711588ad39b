"""The suspender and the gateway together, in process, on a real local driver.

Concurrent requests for a suspended deployment are held while one wake starts it, then all
answered; a start slower than the wake timeout gets 503 with Retry-After, and the deployment
keeps starting for the next request. New environment variables wake a suspended deployment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contract.keys import mint_key
from controlplane.audit.actions import SYSTEM
from controlplane.audit.models import AuditEvent
from controlplane.deployments.actions import update_environment_variables
from controlplane.deployments.models import Deployment, Status
from controlplane.provisioning.drivers.local import LocalDriver
from controlplane.provisioning.gateway import HostGateway
from controlplane.provisioning.suspend import Suspender, set_suspender

pytestmark = pytest.mark.slow


async def control_plane(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b"control plane"})


def suspend(suspender: Suspender, name: str) -> None:
    """Run the suspender's checks until the deployment is suspended."""
    deadline = time.monotonic() + 60
    while Deployment.objects.get(name=name).status != Status.SUSPENDED:
        assert time.monotonic() < deadline, "not suspended"
        suspender.check()
        time.sleep(0.2)


async def get_all(gateway: HostGateway, name: str, count: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}.strata.test") as c:
        return list(await asyncio.gather(*(c.get("/instance_name") for _ in range(count))))


async def scenario(
    gateway: HostGateway, suspender: Suspender, driver: LocalDriver, name: str
) -> None:
    """One event loop throughout, as in Daphne (the gateway keeps a connection pool)."""
    await asyncio.to_thread(suspend, suspender, name)
    assert not driver.state(name).running
    assert driver.upstream(name) is None

    answers = await get_all(gateway, name, 5)
    assert [(r.status_code, r.text) for r in answers] == [(200, name)] * 5
    status = await asyncio.to_thread(lambda: Deployment.objects.get(name=name).status)
    assert status == Status.RUNNING
    reasons = await asyncio.to_thread(resume_reasons)
    assert reasons == ["http"]  # one wake for all five

    await asyncio.to_thread(suspend, suspender, name)
    suspender.wake_timeout_s = 0.05  # no data plane starts that fast
    [slow] = await get_all(gateway, name, 1)
    assert slow.status_code == 503
    assert slow.json()["code"] == "DeploymentStarting"
    assert int(slow.headers["retry-after"]) >= 1
    suspender.wake_timeout_s = 60
    [later] = await get_all(gateway, name, 1)  # it kept starting meanwhile
    assert (later.status_code, later.text) == (200, name)
    assert await asyncio.to_thread(resume_reasons) == ["http", "http"]

    # New environment variables wake a suspended deployment, which gets them.
    await asyncio.to_thread(suspend, suspender, name)
    await asyncio.to_thread(set_variable, name, "GREETING", "hello")
    assert await asyncio.to_thread(resume_reasons) == ["http", "http", "environment"]
    upstream = driver.upstream(name)
    assert upstream is not None
    deployment = await asyncio.to_thread(Deployment.objects.get, name=name)
    key = mint_key(name, deployment.instance_secret)
    async with httpx.AsyncClient() as client:
        listed = await client.get(
            f"{upstream}/api/list_environment_variables",
            headers={"Authorization": f"Convex {key}"},
        )
    assert listed.json()["environmentVariables"] == {"GREETING": "hello"}


def set_variable(name: str, key: str, value: str) -> None:
    deployment = Deployment.objects.get(name=name)
    update_environment_variables(SYSTEM, deployment, [{"name": key, "value": value}])


def resume_reasons() -> list[str]:
    events = AuditEvent.objects.filter(action="deployment.resume").order_by("pk")
    return [e.metadata["reason"] for e in events]


def test_held_requests_share_one_wake_and_a_slow_start_is_503(
    transactional_db: None,
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
) -> None:
    name, _url = create_project("sleepy", "prod")
    suspender = Suspender(local_driver, idle_after_s=1, check_s=1, wake_timeout_s=60)
    gateway = HostGateway(
        control_plane, base_domain="strata.test", resolve=local_driver.upstream, waker=suspender
    )
    previous = set_suspender(suspender)
    try:
        asyncio.run(scenario(gateway, suspender, local_driver, name))
    finally:
        set_suspender(previous)
        suspender.stop()


def test_each_deployment_may_override_the_idle_limit(
    transactional_db: None,
    create_project: Callable[[str, str], tuple[str, str]],
    team_owner: tuple[Any, int],
    local_driver: LocalDriver,
    settings: Any,
) -> None:
    caller, team_id = team_owner
    name, _url = create_project("tuned", "dev")
    update = f"deployments/{name}/update"
    settings.STRATA_SUSPEND_AFTER_S = 0  # scale to zero off: only "never" or "default"
    refused = caller.post(update, {"suspendAfterSeconds": 60})
    assert refused.status_code == 400 and refused.json()["code"] == "SuspendUnavailable"
    assert caller.post(update, {"suspendAfterSeconds": -1}).status_code == 400
    settings.STRATA_SUSPEND_AFTER_S = 1
    never = caller.post(update, {"suspendAfterSeconds": 0})
    assert never.status_code == 200 and never.json()["suspendAfterSeconds"] == 0
    events = caller.get(f"teams/{team_id}/list_audit_log_events").json()["items"]
    assert events[0]["action"] == "deployment.update"
    assert events[0]["metadata"] == {"suspend_after_seconds": 0}

    suspender = Suspender(local_driver, idle_after_s=1, check_s=1)
    try:
        time.sleep(1.5)
        for _ in range(3):  # idle past the platform's limit, but this one never sleeps
            suspender.check()
            time.sleep(0.3)
        assert Deployment.objects.get(name=name).status == Status.RUNNING
        back = caller.post(update, {"suspendAfterSeconds": None})
        assert back.status_code == 200 and back.json()["suspendAfterSeconds"] is None
        suspend(suspender, name)  # the platform's default applies again
        assert not local_driver.state(name).running
    finally:
        suspender.stop()
