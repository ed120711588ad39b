"""One row per change: who did what to which object, in which team."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from controlplane.teams.models import Team


class AuditEvent(models.Model):
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_token = models.CharField(max_length=32, blank=True, default="")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
