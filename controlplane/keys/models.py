"""Keys and tokens. Only hashes are stored; the secret is shown once at creation."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from controlplane.deployments.models import Deployment
from controlplane.teams.models import Role, Team


class DeployKey(models.Model):
    """A deploy or admin key for one deployment (minted by contract.keys, scoped by actions)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    allowed_actions = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class TokenKind(models.TextChoices):
    PERSONAL = "personal"
    TEAM = "team"


class AccessToken(models.Model):
    """Bearer token for the management API: personal (acts as its user) or team (one team)."""

    kind = models.CharField(max_length=16, choices=TokenKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="tokens"
    )
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="tokens")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.DEVELOPER)
    name = models.CharField(max_length=100)
    token_id = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
