"""Scale to zero: a suspended deployment is woken to be backed up and to be restored into."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from controlplane.audit.models import AuditEvent
from controlplane.deployments.models import Deployment, Status
from controlplane.provisioning.drivers.local import LocalDriver
from controlplane.provisioning.suspend import Suspender, set_suspender
from tests.controlplane.conftest import Caller
from tests.controlplane.test_wake import suspend

from .conftest import DataPlane

pytestmark = pytest.mark.slow


def resume_reasons() -> list[str]:
    events = AuditEvent.objects.filter(action="deployment.resume").order_by("pk")
    return [e.metadata["reason"] for e in events]


def test_suspended_deployment_is_woken_for_backup_and_restore(
    transactional_db: None,
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    local_driver: LocalDriver,
    settings: Any,
) -> None:
    caller, _ = team_owner
    settings.STRATA_SUSPEND_AFTER_S = 1
    name, _url = create_project("dozy", "dev")
    data = DataPlane(name)
    data.add("notes", {"text": "kept"})
    before = data.documents("notes")
    suspender = Suspender(local_driver, idle_after_s=1, check_s=1, wake_timeout_s=60)
    previous = set_suspender(suspender)
    try:
        suspend(suspender, name)
        r = caller.post(f"deployments/{name}/create_backup")
        assert r.status_code == 201, r.content
        backup = caller.get(f"backups/{r.json()['id']}").json()
        assert backup["status"] == "completed", backup
        assert resume_reasons() == ["backup"]

        data.add("notes", {"text": "after the backup"})
        suspend(suspender, name)
        r = caller.post(f"deployments/{name}/restore_backup", {"backupId": backup["id"]})
        assert r.status_code == 200, r.content
        assert caller.get(f"restores/{r.json()['id']}").json()["status"] == "completed"
        assert resume_reasons() == ["backup", "restore"]
        assert Deployment.objects.get(name=name).status == Status.RUNNING
        assert data.documents("notes") == before
    finally:
        set_suspender(previous)
        suspender.stop()
