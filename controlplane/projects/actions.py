"""Project writes. Creating a project can create its default deployment in the same step."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from controlplane.audit.actions import Actor, record
from controlplane.deployments.actions import create_deployment, delete_deployment
from controlplane.deployments.models import Deployment, Status
from controlplane.errors import ActionError
from controlplane.teams.models import Team

from .models import Project


def _unique_slug(team: Team, name: str) -> str:
    base = slugify(name)[:48] or "project"
    slug, n = base, 1
    while Project.objects.filter(team=team, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_project(
    actor: Actor,
    team: Team,
    name: str,
    *,
    deployment_type: str | None = None,
    storage: str = "sqlite",
) -> tuple[Project, Deployment | None]:
    if not name.strip():
        raise ActionError("projectName must not be empty", code="InvalidName")
    project = Project.objects.create(team=team, name=name.strip(), slug=_unique_slug(team, name))
    record(actor, team, "project.create", project, name=project.name)
    deployment = None
    if deployment_type:
        deployment = create_deployment(actor, project, deployment_type, storage=storage)
    return project, deployment


@transaction.atomic
def rename_project(actor: Actor, project: Project, name: str) -> Project:
    """Change the display name; the slug (used in references) stays as created."""
    name = name.strip()
    if not name:
        raise ActionError("name must not be empty", code="InvalidName")
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.name != name:
        previous, project.name = project.name, name
        project.save(update_fields=["name"])
        record(actor, project.team, "project.update", project, name=name, previous=previous)
    return project


@transaction.atomic
def delete_project(actor: Actor, project: Project) -> None:
    """Delete every deployment of the project (data kept for the grace period), then it."""
    for deployment in project.deployments.exclude(status=Status.DELETED):
        delete_deployment(actor, deployment)
    project.deleted_at = timezone.now()
    project.slug = f"{project.slug}-deleted-{project.pk}"[:64]
    project.save(update_fields=["deleted_at", "slug"])
    record(actor, project.team, "project.delete", project, name=project.name)
