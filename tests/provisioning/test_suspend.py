"""Scale to zero end to end: `runplatform` with host routing and a one-second idle limit.

A real deployment (the scheduler test app without its crons) is suspended when idle (its
process goes, its status and the audit log say so), and woken through the gateway by an HTTP
query, by a sync WebSocket (raw Convex protocol) and by a scheduled function falling due while
it sleeps; what was written before a suspend is read after it and a subscription picks up
where it left off after reconnecting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.controlplane.test_runplatform import Platform, wait_for
from tests.provisioning.suspendable import (
    Tenant,
    notes_until,
    scheduler_app,
    subscribe_notes,
    suspending_platform,
)

pytestmark = pytest.mark.slow
IDLE_S = 1


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with suspending_platform(tmp_path, IDLE_S) as running:
        yield running


@pytest.fixture
def tenant(platform: Platform, tmp_path: Path) -> Tenant:
    tenant = Tenant(platform)
    tenant.push(scheduler_app(tmp_path))
    return tenant


def test_idle_deployment_is_suspended_and_woken_by_http_and_websocket(tenant: Tenant) -> None:
    tenant.call("mutation", "jobs:schedule", body="before", delayMs=0)
    with tenant.socket() as ws:  # a subscriber keeps it awake while connected
        subscribe_notes(ws)
        assert {"before", "scheduler:before"} <= set(notes_until(ws, {"before"}))
    first = tenant.wait_suspended()
    assert first["wakeAt"] is None  # nothing scheduled
    suspended = tenant.events("deployment.suspend")[0]  # newest first
    assert suspended["metadata"]["idle_seconds"] >= IDLE_S

    # A query through the gateway wakes it and reads what was written before.
    notes = tenant.call("query", "jobs:notes")
    assert {"before", "scheduler:before"} <= set(notes)
    assert tenant.deployment()["status"] == "running" and len(tenant.processes()) == 1
    assert tenant.events("deployment.resume")[0]["metadata"]["reason"] == "http"

    # A sync socket wakes it too; the subscription resumes and follows new writes.
    tenant.wait_suspended()
    with tenant.socket() as ws:
        subscribe_notes(ws)
        notes_until(ws, {"before", "scheduler:before"})
        assert tenant.events("deployment.resume")[0]["metadata"]["reason"] == "websocket"
        tenant.call("mutation", "jobs:schedule", body="live", delayMs=0)
        assert {"before", "live", "scheduler:live"} <= set(notes_until(ws, {"live"}))
        assert tenant.deployment()["status"] == "running"  # an open socket holds it awake


def test_scheduled_function_due_while_suspended_runs(tenant: Tenant) -> None:
    tenant.call("mutation", "jobs:schedule", body="later", delayMs=10_000)
    details = tenant.wait_suspended()
    assert details["wakeAt"] is not None  # the due time was asked for and stored
    # Woken by the schedule alone (no request reaches it meanwhile) ...
    wait_for(
        lambda: any(
            e["metadata"]["reason"] == "schedule" for e in tenant.events("deployment.resume")
        ),
        60,
    )
    # ... the job runs, and once it is done the deployment goes back to sleep.
    tenant.wait_suspended()
    assert "later" in tenant.call("query", "jobs:notes")
