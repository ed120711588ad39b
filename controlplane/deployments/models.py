"""Deployments and their environment variables, as the control plane records them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from controlplane.projects.models import Project


class DeploymentType(models.TextChoices):
    DEV = "dev"
    PROD = "prod"
    PREVIEW = "preview"


class Status(models.TextChoices):
    PROVISIONING = "provisioning"
    RUNNING = "running"
    SUSPENDED = "suspended"  # idle: processes stopped, woken by the next request or due job
    PAUSED = "paused"
    DELETED = "deleted"
    FAILED = "failed"


class Storage(models.TextChoices):
    SQLITE = "sqlite"
    POSTGRES = "postgres"
    MYSQL = "mysql", "MySQL"


class Deployment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deployments")
    name = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=16, choices=DeploymentType.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROVISIONING)
    status_reason = models.CharField(max_length=200, blank=True, default="")
    reference = models.CharField(max_length=100, blank=True, default="")
    storage = models.CharField(max_length=16, choices=Storage.choices, default=Storage.SQLITE)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    port = models.IntegerField(null=True, blank=True, unique=True)
    instance_secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    purge_after = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # When a suspended deployment's next scheduled function or cron is due (it is woken then).
    wake_at = models.DateTimeField(null=True, blank=True)
    # Idle seconds before this deployment is suspended: None = the platform's
    # STRATA_SUSPEND_AFTER_S, 0 = never.
    suspend_after_s = models.IntegerField(null=True, blank=True)

    @property
    def team_id(self) -> int:
        return self.project.team_id

    def __str__(self) -> str:
        return self.name


class EnvironmentVariable(models.Model):
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="environment_variables"
    )
    name = models.CharField(max_length=40)
    value = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "name"], name="env_name")]
