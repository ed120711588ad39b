"""Celery tasks that drive provisioning (controlplane/provisioning/; eager without a broker)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from controlplane.audit.actions import SYSTEM, record
from controlplane.provisioning.drivers import DriverError, get_driver

from .actions import data_plane_client, purge_due, refresh_environment_variables, spec_for
from .models import Deployment, Status

log = logging.getLogger(__name__)


def _revoked_ids(deployment: Deployment) -> list[str]:
    return list(deployment.keys.exclude(revoked_at=None).values_list("key_id", flat=True))


@shared_task
def provision_deployment(deployment_id: int) -> str:
    deployment = Deployment.objects.get(pk=deployment_id)
    if deployment.status != Status.PROVISIONING:
        return deployment.status
    driver = get_driver()
    spec = spec_for(deployment)
    # The console shows this step while it waits (provisioning takes seconds, never silently).
    Deployment.objects.filter(pk=deployment.pk, status=Status.PROVISIONING).update(
        status_reason=f"creating {deployment.storage} storage and starting the process"
    )
    try:
        driver.provision(spec)
        driver.publish_revoked_keys(spec, _revoked_ids(deployment))
    except (DriverError, OSError) as exc:
        log.error("provisioning %s failed: %s", deployment.name, exc)
        with transaction.atomic():
            updated = Deployment.objects.filter(pk=deployment.pk, status=Status.PROVISIONING)
            updated.update(status=Status.FAILED, status_reason=str(exc)[:200])
            record(SYSTEM, deployment.project.team, "deployment.failed", deployment)
        return Status.FAILED
    with transaction.atomic():
        changed = Deployment.objects.filter(pk=deployment.pk, status=Status.PROVISIONING).update(
            status=Status.RUNNING, status_reason=""
        )
    if not changed:  # paused or deleted meanwhile: honour the newer request
        driver.stop(deployment.name)
        return Deployment.objects.get(pk=deployment.pk).status
    push_environment_variables(deployment.pk)
    return Status.RUNNING


@shared_task
def stop_deployment(deployment_id: int) -> None:
    deployment = Deployment.objects.get(pk=deployment_id)
    # Keep what `npx convex env set` wrote: the copy is pushed back when the process returns.
    if deployment.status != Status.DELETED:
        refresh_environment_variables(deployment)
    get_driver().stop(deployment.name)


@shared_task
def publish_revocations(deployment_id: int) -> None:
    deployment = Deployment.objects.get(pk=deployment_id)
    if deployment.purged_at is None:
        get_driver().publish_revoked_keys(spec_for(deployment), _revoked_ids(deployment))


def _wake(deployment: Deployment, reason: str) -> Deployment:
    """The deployment after waking it, if it is suspended and suspension is on."""
    from django.conf import settings

    from controlplane.provisioning.suspend import get_suspender

    suspender = get_suspender()
    if suspender is not None:
        try:
            suspender.wake(deployment.name, reason).result(4 * settings.STRATA_WAKE_TIMEOUT_S)
        except Exception as exc:
            log.error("waking %s for %s failed: %s", deployment.name, reason, exc)
    return Deployment.objects.get(pk=deployment.pk)


@shared_task
def push_environment_variables(
    deployment_id: int, changes: list[dict[str, str | None]] | None = None
) -> bool:
    """Send `changes` (default: every variable) to the running data plane; a suspended one
    is woken for them (it reads its variables from its own database when it starts)."""
    deployment = Deployment.objects.get(pk=deployment_id)
    if deployment.status == Status.SUSPENDED:
        deployment = _wake(deployment, "environment")
    if deployment.status != Status.RUNNING:
        return False
    if changes is None:
        changes = [
            {"name": v.name, "value": v.value} for v in deployment.environment_variables.all()
        ]
    return data_plane_client(deployment).update_environment_variables(changes)


@shared_task
def purge_deleted_deployments() -> list[str]:
    return purge_due()
