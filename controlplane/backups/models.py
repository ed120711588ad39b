"""Backups (snapshot ZIPs of a deployment kept by the control plane), restores and schedules."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from controlplane.deployments.models import Deployment


class Kind(models.TextChoices):
    MANUAL = "manual"
    SCHEDULED = "scheduled"


class BackupStatus(models.TextChoices):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class Backup(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="backups")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    status = models.CharField(
        max_length=16, choices=BackupStatus.choices, default=BackupStatus.PENDING
    )
    error = models.CharField(max_length=500, blank=True, default="")
    storage_key = models.CharField(max_length=300, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"backup {self.pk} of {self.deployment_id}"


class Restore(models.Model):
    """One restore of a backup into a deployment (the same one or another of its team)."""

    backup = models.ForeignKey(Backup, null=True, on_delete=models.SET_NULL, related_name="+")
    target = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="restores")
    status = models.CharField(
        max_length=16, choices=BackupStatus.choices, default=BackupStatus.PENDING
    )
    error = models.CharField(max_length=500, blank=True, default="")
    documents = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)


class BackupSchedule(models.Model):
    """A scheduled backup every `interval_hours` or at each time of `cron` (5 fields, UTC);
    scheduled backups beyond the newest `retain` are pruned."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="backup_schedule"
    )
    interval_hours = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=100, blank=True, default="")
    retain = models.PositiveIntegerField()
    next_due_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
