"""Backup writes: take, restore, delete, schedule and prune; each records its audit event.

The slow parts (export, upload, import) run as Celery tasks queued on commit, so the rows a
task reads are committed; without a broker they run in-process before the request returns.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import CroniterError, croniter
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlplane.audit.actions import SYSTEM, Actor, record
from controlplane.deployments.actions import deployment_url
from controlplane.deployments.models import Deployment, Status
from controlplane.errors import ActionError, Conflict

from .models import Backup, BackupSchedule, BackupStatus, Kind, Restore
from .snapshots import SnapshotClient, SnapshotError
from .store import BackupMissing, get_store

log = logging.getLogger(__name__)
MAX_INTERVAL_HOURS = 24 * 366
MAX_RETAIN = 1000


#: Deployments a backup or restore can reach: a suspended one is woken for it.
LIVE = (Status.RUNNING, Status.SUSPENDED)


def _require_running(deployment: Deployment) -> None:
    if deployment.status not in LIVE:
        raise Conflict(
            f"Deployment {deployment.name!r} is {deployment.status}, not running",
            code="DeploymentNotRunning",
        )


def _awake(deployment: Deployment, reason: str) -> Deployment:
    """The deployment, woken first if scale to zero has suspended it (its processes stopped)."""
    if deployment.status == Status.SUSPENDED:
        from controlplane.provisioning.suspend import get_suspender

        suspender = get_suspender()
        if suspender is not None:
            suspender.wake(deployment.name, reason).result(4 * settings.STRATA_WAKE_TIMEOUT_S)
        deployment.refresh_from_db()
    if deployment.status != Status.RUNNING:
        raise SnapshotError(f"Deployment {deployment.name} is {deployment.status}, not running")
    return deployment


def _queue(task_name: str, object_id: int) -> None:
    from . import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(object_id))


def _client(deployment: Deployment) -> SnapshotClient:
    return SnapshotClient(
        deployment_url(deployment),
        deployment.name,
        deployment.instance_secret,
        timeout=settings.STRATA_BACKUP_TIMEOUT_SECONDS,
    )


@contextmanager
def _scratch() -> Iterator[Path]:
    """A private temp directory next to the local store (same filesystem: moves are renames),
    removed with whatever is left in it."""
    root = Path(settings.STRATA_BACKUP_DIR)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix=".tmp-", dir=root) as tmp:
        yield Path(tmp)


@transaction.atomic
def create_backup(actor: Actor, deployment: Deployment, kind: str = Kind.MANUAL) -> Backup:
    _require_running(deployment)
    backup = Backup.objects.create(deployment=deployment, kind=kind, creator=actor.user)
    record(actor, deployment.project.team, "backup.create", backup, deployment=deployment.name)
    _queue("run_backup", backup.pk)
    return backup


def _finish(row: Backup | Restore, status: str, error: str = "", **fields: object) -> None:
    row.status = status
    row.error = error[:500]
    row.completed_at = timezone.now()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()


def run_backup(backup_id: int) -> str:
    """Export the deployment into the store; a scheduled backup then prunes its schedule."""
    backup = Backup.objects.select_related("deployment").get(pk=backup_id)
    if backup.status != BackupStatus.PENDING:
        return backup.status
    deployment = backup.deployment
    key = f"{deployment.name}/{backup.pk}.zip"
    try:
        with _scratch() as scratch:
            zip_path = scratch / "snapshot.zip"
            got = _client(_awake(deployment, "backup")).export_to(zip_path)
            get_store().put_file(key, zip_path)
    except (SnapshotError, OSError) as exc:
        log.warning("backup %s of %s failed: %s", backup.pk, deployment.name, exc)
        _finish(backup, BackupStatus.FAILED, str(exc))
        return backup.status
    except Exception as exc:  # the store (boto3) or HTTP: record, never leave it pending
        log.exception("backup %s of %s failed", backup.pk, deployment.name)
        _finish(backup, BackupStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return backup.status
    _finish(backup, BackupStatus.COMPLETED, storage_key=key, size=got.size, sha256=got.sha256)
    if backup.kind == Kind.SCHEDULED:
        schedule = BackupSchedule.objects.filter(deployment=deployment).first()
        if schedule is not None:
            prune(deployment, schedule.retain)
    return backup.status


@transaction.atomic
def restore_backup(actor: Actor, backup: Backup, target: Deployment) -> Restore:
    """Replace every table of `target` with the backup's (Convex's import --replace-all)."""
    if backup.status != BackupStatus.COMPLETED:
        raise Conflict(f"Backup {backup.pk} is {backup.status}", code="BackupNotCompleted")
    if backup.deployment.project.team_id != target.project.team_id:
        raise ActionError("A backup restores only into deployments of its own team")
    _require_running(target)
    restore = Restore.objects.create(backup=backup, target=target)
    record(
        actor,
        target.project.team,
        "backup.restore",
        backup,
        source_deployment=backup.deployment.name,
        target_deployment=target.name,
        restore=restore.pk,
    )
    _queue("run_restore", restore.pk)
    return restore


def _download(backup: Backup, target: Path) -> None:
    """Copy the stored ZIP to `target`, refusing it if its digest is not the recorded one."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for chunk in get_store().open(backup.storage_key):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != backup.sha256:
        raise SnapshotError(f"Backup {backup.pk} is damaged: its SHA-256 does not match")


def run_restore(restore_id: int) -> str:
    restore = Restore.objects.select_related("backup", "target").get(pk=restore_id)
    if restore.status != BackupStatus.PENDING:
        return restore.status
    if restore.backup is None:
        _finish(restore, BackupStatus.FAILED, "The backup was deleted")
        return restore.status
    try:
        with _scratch() as scratch:
            zip_path = scratch / "restore.zip"
            _download(restore.backup, zip_path)
            written = _client(_awake(restore.target, "restore")).import_replacing_all(zip_path)
    except (SnapshotError, BackupMissing, OSError) as exc:
        message = f"The backup file is missing: {exc}" if isinstance(exc, BackupMissing) else exc
        log.warning("restore %s into %s failed: %s", restore.pk, restore.target.name, message)
        _finish(restore, BackupStatus.FAILED, str(message))
        return restore.status
    except Exception as exc:
        log.exception("restore %s into %s failed", restore.pk, restore.target.name)
        _finish(restore, BackupStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return restore.status
    _finish(restore, BackupStatus.COMPLETED, documents=written)
    return restore.status


def _delete(actor: Actor, backup: Backup, **metadata: object) -> None:
    key = backup.storage_key
    record(
        actor,
        backup.deployment.project.team,
        "backup.delete",
        backup,
        deployment=backup.deployment.name,
        **metadata,
    )
    backup.delete()
    if key:
        transaction.on_commit(lambda: _delete_file(key))


def _delete_file(key: str) -> None:
    """After the row is gone; a file the store fails to delete is logged, not an API error."""
    try:
        get_store().delete(key)
    except Exception:
        log.exception("could not delete backup file %s", key)


@transaction.atomic
def delete_backup(actor: Actor, backup: Backup) -> None:
    if backup.status == BackupStatus.PENDING:
        raise Conflict("The backup is still being taken", code="BackupPending")
    _delete(actor, backup)


@transaction.atomic
def prune(deployment: Deployment, retain: int) -> list[int]:
    """Delete the deployment's completed scheduled backups beyond the newest `retain`."""
    doomed = list(
        Backup.objects.filter(
            deployment=deployment, kind=Kind.SCHEDULED, status=BackupStatus.COMPLETED
        ).order_by("-created_at", "-pk")[retain:]
    )
    for backup in doomed:
        _delete(SYSTEM, backup, reason="retention")
    return [b.pk for b in doomed]


def next_due(interval_hours: int | None, cron: str, after: datetime) -> datetime:
    """When a schedule fires next after `after`: one interval later, or cron's next time (UTC)."""
    if cron:
        nxt: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
        return nxt
    assert interval_hours is not None
    return after + timedelta(hours=interval_hours)


def _fires(cron: str) -> bool:
    """A valid 5-field expression with a next time (croniter gives up on "0 0 31 2 *")."""
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        return False
    try:
        next_due(None, cron, timezone.now())
    except (CroniterError, ValueError):
        return False
    return True


def _check_schedule(interval_hours: int | None, cron: str, retain: int) -> None:
    if (interval_hours is None) == (not cron):
        raise ActionError("Give either intervalHours or cron", code="InvalidSchedule")
    if interval_hours is not None and not 1 <= interval_hours <= MAX_INTERVAL_HOURS:
        raise ActionError(f"intervalHours must be 1..{MAX_INTERVAL_HOURS}", code="InvalidSchedule")
    if cron and not _fires(cron):
        raise ActionError(
            f"{cron!r} is not a 5-field cron expression (minute hour day month weekday, UTC) "
            "that ever fires",
            code="InvalidSchedule",
        )
    if not 1 <= retain <= MAX_RETAIN:
        raise ActionError(f"retain must be 1..{MAX_RETAIN}", code="InvalidSchedule")


@transaction.atomic
def set_schedule(
    actor: Actor,
    deployment: Deployment,
    *,
    interval_hours: int | None = None,
    cron: str = "",
    retain: int,
) -> BackupSchedule:
    """Back up every `interval_hours` (first one interval from now) or on `cron`, keeping
    the newest `retain` scheduled backups."""
    cron = cron.strip()
    if deployment.status == Status.DELETED:
        raise ActionError("The deployment is deleted", code="DeploymentDeleted")
    _check_schedule(interval_hours, cron, retain)
    now = timezone.now()
    schedule = BackupSchedule.objects.select_for_update().filter(deployment=deployment).first()
    if schedule is None:
        schedule = BackupSchedule(deployment=deployment)
    if schedule.pk is None or (schedule.interval_hours, schedule.cron) != (interval_hours, cron):
        schedule.next_due_at = next_due(interval_hours, cron, now)
    schedule.interval_hours = interval_hours
    schedule.cron = cron
    schedule.retain = retain
    schedule.save()
    record(
        actor,
        deployment.project.team,
        "backup.schedule",
        deployment,
        interval_hours=interval_hours,
        cron=cron,
        retain=retain,
    )
    prune(deployment, retain)
    return schedule


@transaction.atomic
def delete_schedule(actor: Actor, deployment: Deployment) -> None:
    deleted, _ = BackupSchedule.objects.filter(deployment=deployment).delete()
    if deleted:
        record(actor, deployment.project.team, "backup.unschedule", deployment)


def fail_interrupted(now: datetime) -> int:
    """Backups and restores pending for twice the time limit were lost with their worker."""
    cutoff = now - timedelta(seconds=2 * settings.STRATA_BACKUP_TIMEOUT_SECONDS)
    fields = {"status": BackupStatus.FAILED, "error": "Interrupted", "completed_at": now}
    lost = Backup.objects.filter(status=BackupStatus.PENDING, created_at__lt=cutoff)
    lost_restores = Restore.objects.filter(status=BackupStatus.PENDING, created_at__lt=cutoff)
    return lost.update(**fields) + lost_restores.update(**fields)


def delete_purged() -> list[int]:
    """Backups outlive a deleted deployment for its grace period (to be restored elsewhere),
    and go when its data is purged."""
    gone = []
    doomed = Backup.objects.select_related("deployment__project__team").filter(
        deployment__purged_at__isnull=False
    )
    for backup in doomed.exclude(status=BackupStatus.PENDING):
        with transaction.atomic():
            gone.append(backup.pk)
            _delete(SYSTEM, backup, reason="deployment purged")
    BackupSchedule.objects.filter(deployment__purged_at__isnull=False).delete()
    return gone


def take_due_backups(now: datetime | None = None) -> list[int]:
    """Start a scheduled backup of every running deployment whose schedule is due (and mark
    the ones a lost worker left pending as failed, and delete those of purged deployments)."""
    now = now or timezone.now()
    fail_interrupted(now)
    delete_purged()
    started = []
    due = BackupSchedule.objects.filter(next_due_at__lte=now).select_related("deployment")
    for schedule in due:
        with transaction.atomic():
            locked = BackupSchedule.objects.select_for_update().filter(pk=schedule.pk).first()
            if locked is None or locked.next_due_at > now:
                continue  # another worker took it
            locked.next_due_at = next_due(locked.interval_hours, locked.cron, now)
            locked.save(update_fields=["next_due_at"])
            if schedule.deployment.status in LIVE:
                started.append(create_backup(SYSTEM, schedule.deployment, Kind.SCHEDULED).pk)
    return started
