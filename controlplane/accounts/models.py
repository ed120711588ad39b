"""Per-user account state beyond Django's User (which holds email and the argon2 hash)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
