"""Deployment writes: create, pause, unpause, suspend, resume, delete, purge, env variables.

Provisioning runs as Celery tasks queued with `transaction.on_commit`, so a task never sees
a deployment row that is not committed yet.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contract.keys import new_instance_secret
from contract.spec import DeploymentSpec, ResourceLimits, StorageKind
from controlplane.audit.actions import SYSTEM, Actor, record
from controlplane.errors import ActionError, Conflict
from controlplane.projects.models import Project
from controlplane.provisioning.client import DataPlaneClient
from controlplane.provisioning.drivers import get_driver

from .models import Deployment, DeploymentType, EnvironmentVariable, Status, Storage
from .names import generate_name

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
MAX_ENV_VARS = 1000
MAX_ENV_VALUE = 8 * 1024
CONTAINER_PORT = 3210


_STORAGE_KINDS: dict[str, StorageKind] = {"postgres": "postgres", "mysql": "mysql"}


def spec_for(deployment: Deployment) -> DeploymentSpec:
    """What the driver needs; free of control-plane models."""
    return DeploymentSpec(
        name=deployment.name,
        instance_secret=deployment.instance_secret,
        port=deployment.port or CONTAINER_PORT,
        storage=_STORAGE_KINDS.get(deployment.storage, "sqlite"),
        limits=ResourceLimits(
            memory_mb=settings.STRATA_DP_MEMORY_LIMIT_MB,
            max_open_files=settings.STRATA_DP_MAX_OPEN_FILES,
        ),
        usage_report_url=f"{settings.STRATA_CONTROL_PLANE_URL.rstrip('/')}/v1/usage/report",
    )


def deployment_url(deployment: Deployment) -> str:
    """The URL clients use: per-port by default, or `<name>.<base domain>` with host routing."""
    if settings.STRATA_ROUTING == "host" or deployment.port is None:
        return host_url(deployment)
    return f"http://{settings.STRATA_DP_HOST}:{deployment.port}"


def data_plane_client(deployment: Deployment) -> DataPlaneClient:
    """The control plane's admin client of this deployment's data plane."""
    return DataPlaneClient(deployment_url(deployment), deployment.name, deployment.instance_secret)


def host_url(deployment: Deployment) -> str:
    port = settings.STRATA_GATEWAY_PORT
    suffix = "" if port in (80, 443) else f":{port}"
    scheme = "https" if port == 443 else "http"
    return f"{scheme}://{deployment.name}.{settings.BASE_DOMAIN}{suffix}"


def _check_default_slot(project: Project, type_: str, reference: str, actor: Actor) -> None:
    if reference:
        if (
            Deployment.objects.filter(project=project, reference=reference)
            .exclude(status=Status.DELETED)
            .exists()
        ):
            raise Conflict(f"Project already has a deployment with reference {reference!r}")
        return
    if type_ == DeploymentType.PREVIEW:
        raise ActionError("Preview deployments need a 'reference' (e.g. the branch name)")
    existing = Deployment.objects.filter(project=project, type=type_, reference="").exclude(
        status=Status.DELETED
    )
    if type_ == DeploymentType.DEV:
        existing = existing.filter(creator=actor.user)
    if existing.exists():
        raise Conflict(
            f"Project already has a default {type_} deployment"
            + (" for this user" if type_ == DeploymentType.DEV else "")
            + "; pass a 'reference' to create another",
            code="DeploymentExists",
        )


@transaction.atomic
def create_deployment(
    actor: Actor,
    project: Project,
    type_: str,
    *,
    reference: str = "",
    storage: str = Storage.SQLITE,
) -> Deployment:
    from controlplane.usage.quotas import check_can_create_deployment

    Project.objects.select_for_update().filter(pk=project.pk).first()  # serialize per project
    if project.deleted_at is not None:
        raise ActionError("The project is deleted", code="ProjectDeleted")
    check_can_create_deployment(project.team)
    _check_default_slot(project, type_, reference, actor)
    if storage == Storage.POSTGRES and not settings.STRATA_DP_POSTGRES_URL:
        raise ActionError(
            "Postgres storage is not available: the operator has not set STRATA_DP_POSTGRES_URL"
        )
    if storage == Storage.MYSQL and not settings.STRATA_DP_MYSQL_URL:
        raise ActionError(
            "MySQL storage is not available: the operator has not set STRATA_DP_MYSQL_URL"
        )
    driver = get_driver()
    used = set(Deployment.objects.exclude(port=None).values_list("port", flat=True))
    deployment = Deployment.objects.create(
        project=project,
        name=generate_name(lambda n: Deployment.objects.filter(name=n).exists()),
        type=type_,
        reference=reference,
        storage=storage,
        creator=actor.user,
        port=driver.allocate_port(used),
        instance_secret=new_instance_secret(),
    )
    record(actor, project.team, "deployment.create", deployment, name=deployment.name, type=type_)
    _queue("provision_deployment", deployment.pk)
    return deployment


def _queue(task_name: str, deployment_id: int, *args: object) -> None:
    from . import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(deployment_id, *args))


def _lock(deployment: Deployment) -> Deployment:
    return Deployment.objects.select_for_update().get(pk=deployment.pk)


@transaction.atomic
def pause_deployment(actor: Actor, deployment: Deployment, reason: str = "") -> Deployment:
    deployment = _lock(deployment)
    if deployment.status == Status.DELETED:
        raise ActionError("The deployment is deleted", code="DeploymentDeleted")
    if deployment.status != Status.PAUSED:
        deployment.status = Status.PAUSED
        deployment.status_reason = reason
        deployment.suspended_at = deployment.wake_at = None  # paused wins over suspended
        deployment.save(update_fields=["status", "status_reason", "suspended_at", "wake_at"])
        record(actor, deployment.project.team, "deployment.pause", deployment, reason=reason)
        _queue("stop_deployment", deployment.pk)
    return deployment


@transaction.atomic
def unpause_deployment(actor: Actor, deployment: Deployment) -> Deployment:
    from controlplane.usage.quotas import check_within_quota

    deployment = _lock(deployment)
    if deployment.status == Status.DELETED:
        raise ActionError("The deployment is deleted", code="DeploymentDeleted")
    if deployment.status in (Status.PAUSED, Status.FAILED):
        check_within_quota(deployment.project.team)
        deployment.status = Status.PROVISIONING
        deployment.status_reason = ""
        deployment.save(update_fields=["status", "status_reason"])
        record(actor, deployment.project.team, "deployment.unpause", deployment)
        _queue("provision_deployment", deployment.pk)
    return deployment


@transaction.atomic
def set_suspend_after(actor: Actor, deployment: Deployment, seconds: int | None) -> Deployment:
    """How long this deployment may sit idle before it is suspended: None = the platform's
    default, 0 = never (e.g. a production deployment that must answer at once)."""
    deployment = _lock(deployment)
    if deployment.status == Status.DELETED:
        raise ActionError("The deployment is deleted", code="DeploymentDeleted")
    if seconds is not None and seconds < 0:
        raise ActionError("suspendAfterSeconds must be 0 (never) or more", code="InvalidValue")
    if seconds and not settings.STRATA_SUSPEND_AFTER_S:
        raise ActionError(
            "Scale to zero is off on this platform (the operator sets STRATA_SUSPEND_AFTER_S)",
            code="SuspendUnavailable",
        )
    if deployment.suspend_after_s != seconds:
        deployment.suspend_after_s = seconds
        deployment.save(update_fields=["suspend_after_s"])
        record(
            actor,
            deployment.project.team,
            "deployment.update",
            deployment,
            suspend_after_seconds=seconds,
        )
    return deployment


@transaction.atomic
def suspend_deployment(
    name: str, *, idle_seconds: float, wake_at: datetime | None
) -> Deployment | None:
    """Record that a running deployment's processes were stopped for idleness (the
    suspender has stopped them); None if it is no longer running (paused, deleted...)."""
    deployment = Deployment.objects.select_for_update().filter(name=name).first()
    if deployment is None or deployment.status != Status.RUNNING:
        return None
    deployment.status = Status.SUSPENDED
    deployment.suspended_at = timezone.now()
    deployment.wake_at = wake_at
    deployment.save(update_fields=["status", "suspended_at", "wake_at"])
    record(
        SYSTEM,
        deployment.project.team,
        "deployment.suspend",
        deployment,
        idle_seconds=round(idle_seconds, 1),
        wake_at=wake_at.isoformat() if wake_at else None,
    )
    return deployment


@transaction.atomic
def resume_deployment(name: str, *, reason: str) -> Deployment | None:
    """Mark a suspended deployment running again before its processes start (`reason`:
    what woke it: "http", "websocket" or "schedule"); None if it is not suspended."""
    deployment = Deployment.objects.select_for_update().filter(name=name).first()
    if deployment is None or deployment.status != Status.SUSPENDED:
        return None
    asleep = (
        (timezone.now() - deployment.suspended_at).total_seconds()
        if (deployment.suspended_at)
        else 0.0
    )
    deployment.status = Status.RUNNING
    deployment.suspended_at = None
    deployment.wake_at = None
    deployment.save(update_fields=["status", "suspended_at", "wake_at"])
    record(
        SYSTEM,
        deployment.project.team,
        "deployment.resume",
        deployment,
        reason=reason,
        suspended_seconds=round(asleep, 1),
    )
    return deployment


@transaction.atomic
def delete_deployment(actor: Actor, deployment: Deployment) -> Deployment:
    """Stop now; the data is purged after STRATA_DELETE_GRACE_SECONDS."""
    deployment = _lock(deployment)
    if deployment.status == Status.DELETED:
        return deployment
    now = timezone.now()
    deployment.status = Status.DELETED
    deployment.deleted_at = now
    deployment.purge_after = now + timedelta(seconds=settings.STRATA_DELETE_GRACE_SECONDS)
    deployment.suspended_at = deployment.wake_at = None
    deployment.save(
        update_fields=["status", "deleted_at", "purge_after", "suspended_at", "wake_at"]
    )
    deployment.keys.filter(revoked_at=None).update(revoked_at=now)
    record(actor, deployment.project.team, "deployment.delete", deployment, name=deployment.name)
    _queue("stop_deployment", deployment.pk)
    return deployment


def purge_due() -> list[str]:
    """Destroy the data of deleted deployments whose grace period is over."""
    driver = get_driver()
    purged = []
    due = Deployment.objects.filter(
        status=Status.DELETED, purged_at=None, purge_after__lte=timezone.now()
    )
    for deployment in due:
        driver.destroy(spec_for(deployment))
        with transaction.atomic():
            deployment.purged_at = timezone.now()
            deployment.port = None
            deployment.save(update_fields=["purged_at", "port"])
            record(SYSTEM, deployment.project.team, "deployment.purge", deployment)
        purged.append(deployment.name)
    return purged


def refresh_environment_variables(deployment: Deployment) -> bool:
    """Mirror the running data plane's variables into the control plane's copy.

    `npx convex env set` writes to the data plane directly, so the data plane holds the truth;
    the copy here is what the console shows when the deployment is not running and what a
    re-provisioned process gets back. False (copy unchanged) if the data plane cannot answer."""
    env = data_plane_client(deployment).list_environment_variables()
    if env is None:
        return False
    with transaction.atomic():
        rows = EnvironmentVariable.objects.filter(deployment=deployment)
        rows.exclude(name__in=list(env)).delete()
        current = dict(rows.values_list("name", "value"))
        for name, value in env.items():
            if current.get(name) != value:
                EnvironmentVariable.objects.update_or_create(
                    deployment=deployment, name=name, defaults={"value": value}
                )
    return True


@transaction.atomic
def update_environment_variables(
    actor: Actor, deployment: Deployment, changes: list[dict[str, str | None]]
) -> list[dict[str, str | None]]:
    """Apply `[{name, value}]`; value None deletes. Validated as a whole before any write."""
    deployment = _lock(deployment)
    if deployment.status == Status.DELETED:
        raise ActionError("The deployment is deleted", code="DeploymentDeleted")
    seen: set[str] = set()
    for change in changes:
        name, value = change["name"] or "", change.get("value")
        if not ENV_NAME_RE.match(name):
            raise ActionError(
                f"Invalid environment variable name {name!r}: use letters, digits and '_', "
                "start with a letter or '_', at most 40 characters",
                code="InvalidEnvVarName",
            )
        if name in seen:
            raise ActionError(f"Environment variable {name!r} appears twice", code="DuplicateName")
        seen.add(name)
        if value is not None and len(value.encode()) > MAX_ENV_VALUE:
            raise ActionError(
                f"Environment variable {name!r} is longer than 8 KiB", code="EnvVarTooLarge"
            )
    for change in changes:
        name, value = str(change["name"]), change.get("value")
        if value is None:
            EnvironmentVariable.objects.filter(deployment=deployment, name=name).delete()
        else:
            EnvironmentVariable.objects.update_or_create(
                deployment=deployment, name=name, defaults={"value": value}
            )
    if deployment.environment_variables.count() > MAX_ENV_VARS:
        raise ActionError(f"A deployment may have at most {MAX_ENV_VARS} environment variables")
    record(
        actor,
        deployment.project.team,
        "deployment.update_env",
        deployment,
        names=sorted(seen),  # never the values: they are often secrets
    )
    _queue("push_environment_variables", deployment.pk, changes)
    return changes
