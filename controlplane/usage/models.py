"""Daily usage counters per deployment, and the ids of reports already ingested."""

from __future__ import annotations

from django.db import models

from controlplane.deployments.models import Deployment


class DailyUsage(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    function_calls = models.BigIntegerField(default=0)
    db_bytes_read = models.BigIntegerField(default=0)
    db_bytes_written = models.BigIntegerField(default=0)
    storage_bytes = models.BigIntegerField(default=0)  # a gauge: the latest reported size
    action_compute_mb_ms = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["deployment", "day"], name="usage_day")]


class IngestedReport(models.Model):
    """Report ids already counted, so a retried push is not counted twice."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    report_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "report_id"], name="report_once")
        ]
