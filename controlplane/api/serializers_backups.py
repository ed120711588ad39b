"""Request and response shapes of the backup operations of /v1."""

from __future__ import annotations

from rest_framework import serializers

from controlplane.backups.actions import MAX_INTERVAL_HOURS, MAX_RETAIN


class BackupOut(serializers.Serializer):
    id = serializers.IntegerField()
    deploymentName = serializers.CharField(source="deployment.name")
    kind = serializers.ChoiceField(choices=["manual", "scheduled"])
    status = serializers.ChoiceField(
        choices=["pending", "completed", "failed"],
        help_text="pending until the snapshot is taken and stored",
    )
    error = serializers.CharField()
    sizeBytes = serializers.IntegerField(source="size", allow_null=True)
    sha256 = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)


class RestoreIn(serializers.Serializer):
    backupId = serializers.IntegerField(
        min_value=1, help_text="a backup of this or another deployment of the same team"
    )


class RestoreOut(serializers.Serializer):
    id = serializers.IntegerField()
    backupId = serializers.IntegerField(source="backup_id", allow_null=True)
    targetDeployment = serializers.CharField(source="target.name")
    status = serializers.ChoiceField(choices=["pending", "completed", "failed"])
    error = serializers.CharField()
    documentsWritten = serializers.IntegerField(source="documents", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)


class BackupScheduleIn(serializers.Serializer):
    intervalHours = serializers.IntegerField(
        min_value=1, max_value=MAX_INTERVAL_HOURS, required=False, allow_null=True
    )
    cron = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="5-field cron expression in UTC, e.g. '0 3 * * *'; instead of intervalHours",
    )
    retain = serializers.IntegerField(
        min_value=1, max_value=MAX_RETAIN, help_text="scheduled backups kept; older are deleted"
    )


class BackupScheduleOut(serializers.Serializer):
    deploymentName = serializers.CharField(source="deployment.name")
    intervalHours = serializers.IntegerField(source="interval_hours", allow_null=True)
    cron = serializers.CharField(help_text="empty when the schedule is an interval")
    retain = serializers.IntegerField()
    nextDueAt = serializers.DateTimeField(source="next_due_at")
