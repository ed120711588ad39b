"""Stored responses of idempotent creates, keyed by caller and Idempotency-Key."""

from __future__ import annotations

from django.db import models


class IdempotentRequest(models.Model):
    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.IntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key")]
