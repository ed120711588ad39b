"""A project groups a team's deployments (one prod, dev per developer, previews)."""

from __future__ import annotations

from django.db import models

from controlplane.teams.models import Team


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "slug"], name="project_slug")]
