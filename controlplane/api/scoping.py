"""Tenant scoping: every object a view touches is looked up through the caller's teams.

`TeamScopedView` is the base of every authenticated view. Subclasses may not override
`get_queryset`/`get_object` (checked at class creation): they fetch objects only through
`team()`, `project()`, `deployment()` and `scoped()`, which filter by the teams the token may
act in and the minimum role the operation needs. An object in another team is a 404, never
a 403, so its existence does not leak.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from rest_framework.request import Request
from rest_framework.views import APIView

from controlplane.audit.actions import Actor
from controlplane.deployments.models import Deployment, DeploymentType, Status
from controlplane.errors import NotFound, PermissionDenied
from controlplane.keys.actions import team_token_role
from controlplane.keys.models import AccessToken, TokenKind
from controlplane.projects.models import Project
from controlplane.teams.models import Membership, Role, Team, role_at_least

M = TypeVar("M", bound=Model)
FORBIDDEN_OVERRIDES = ("get_queryset", "get_object")


class TeamScopedView(APIView):
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in FORBIDDEN_OVERRIDES:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}: use the scoped lookups of TeamScopedView"
                )

    request: Request

    @property
    def token(self) -> AccessToken:
        token = self.request.auth
        assert isinstance(token, AccessToken)
        return token

    @property
    def actor(self) -> Actor:
        return Actor(user=self.token.user, token=self.token)

    def roles(self) -> dict[int, str]:
        """team id -> the caller's role there."""
        token = self.token
        if token.kind == TokenKind.TEAM:
            role = team_token_role(token)
            return {token.team_id: role} if token.team_id and role else {}
        return dict(Membership.objects.filter(user=token.user).values_list("team_id", "role"))

    def team_ids(self, min_role: str = Role.VIEWER) -> list[int]:
        return [t for t, role in self.roles().items() if role_at_least(role, min_role)]

    def _check(self, team_id: int, min_role: str, what: str) -> str:
        role = self.roles().get(team_id)
        if role is None:
            raise NotFound(f"{what} not found")
        if not role_at_least(role, min_role):
            raise PermissionDenied(f"This needs the {min_role} role; you are {role}")
        return role

    def scoped(
        self, queryset: QuerySet[M], team_path: str, min_role: str = Role.VIEWER
    ) -> QuerySet[M]:
        """`queryset` limited to the caller's teams, `team_path` being the lookup to Team."""
        return queryset.filter(**{f"{team_path}__in": self.team_ids(min_role)})

    def team(self, team_id: Any, min_role: str = Role.VIEWER) -> Team:
        team = Team.objects.filter(pk=_int(team_id)).first()
        if team is None:
            raise NotFound("Team not found")
        self._check(team.pk, min_role, "Team")
        return team

    def project(self, project_id: Any, min_role: str = Role.VIEWER) -> Project:
        project = (
            Project.objects.select_related("team")
            .filter(pk=_int(project_id), deleted_at=None)
            .first()
        )
        if project is None:
            raise NotFound("Project not found")
        self._check(project.team_id, min_role, "Project")
        return project

    def deployment(
        self, name: str, min_role: str = Role.VIEWER, *, include_deleted: bool = False
    ) -> Deployment:
        deployments = Deployment.objects.select_related("project__team").filter(name=name)
        if not include_deleted:
            deployments = deployments.exclude(status=Status.DELETED)
        deployment = deployments.first()
        if deployment is None:
            raise NotFound(f"Deployment {name!r} not found")
        self._check(deployment.project.team_id, min_role, f"Deployment {name!r}")
        return deployment

    def require_prod_admin(self, deployment: Deployment) -> None:
        """Keys to production deployments are handed out by admins only."""
        role = self.roles().get(deployment.project.team_id, Role.VIEWER)
        if deployment.type == DeploymentType.PROD and not role_at_least(role, Role.ADMIN):
            raise PermissionDenied("Keys for production deployments need the admin role")

    def require_personal(self) -> AccessToken:
        if self.token.kind != TokenKind.PERSONAL:
            raise PermissionDenied("This needs a personal access token, not a team token")
        return self.token


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise NotFound("Not found") from exc
