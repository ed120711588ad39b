"""Projects and deployments: create, list, delete, pause, keys, environment variables, usage."""

from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contract.usage import SIGNATURE_HEADER
from controlplane.deployments import actions as deployments
from controlplane.deployments.actions import deployment_url
from controlplane.deployments.models import Deployment, Status
from controlplane.keys import actions as keys
from controlplane.keys.models import DeployKey
from controlplane.projects import actions as projects
from controlplane.projects.models import Project
from controlplane.teams.models import Role
from controlplane.usage.actions import ingest_report
from controlplane.usage.aggregation import deployment_month_usage

from . import serializers as s
from .docs import op
from .idempotency import idempotent
from .pagination import page_serializer, paginate
from .scoping import TeamScopedView
from .views_auth import _body

DeploymentPage = page_serializer(s.DeploymentOut, "DeploymentPage")


class CreateProjectView(TeamScopedView):
    @op(request=s.CreateProjectIn, response=s.CreateProjectOut, status=201, tags=["projects"])
    @idempotent
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.DEVELOPER)
        body = _body(s.CreateProjectIn, request)
        project, deployment = projects.create_project(
            self.actor,
            team,
            body["projectName"],
            deployment_type=body.get("deploymentType"),
            storage=body["storage"],
        )
        return Response(
            {
                "projectId": project.pk,
                "projectSlug": project.slug,
                "deploymentName": deployment.name if deployment else None,
                "deploymentUrl": deployment_url(deployment) if deployment else None,
            },
            status=201,
        )


class ListProjectsView(TeamScopedView):
    @op(response=page_serializer(s.ProjectOut, "ProjectPage"), tags=["projects"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id)
        return Response(
            paginate(request, Project.objects.filter(team=team, deleted_at=None), s.ProjectOut)
        )


class ProjectView(TeamScopedView):
    @op(response=s.ProjectOut, tags=["projects"])
    def get(self, request: Request, project_id: int) -> Response:
        return Response(s.ProjectOut(self.project(project_id)).data)


class UpdateProjectView(TeamScopedView):
    @op(request=s.UpdateProjectIn, response=s.ProjectOut, tags=["projects"])
    def post(self, request: Request, project_id: int) -> Response:
        project = self.project(project_id, Role.DEVELOPER)
        body = _body(s.UpdateProjectIn, request)
        return Response(
            s.ProjectOut(projects.rename_project(self.actor, project, body["name"])).data
        )


class DeleteProjectView(TeamScopedView):
    @op(request=s.Empty, response=s.Empty, tags=["projects"])
    def post(self, request: Request, project_id: int) -> Response:
        projects.delete_project(self.actor, self.project(project_id, Role.ADMIN))
        return Response({})


class TeamDeploymentsView(TeamScopedView):
    @op(response=DeploymentPage, tags=["deployments"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id)
        live = Deployment.objects.filter(project__team=team).exclude(status=Status.DELETED)
        return Response(paginate(request, live, s.DeploymentOut))


class CreateDeploymentView(TeamScopedView):
    @op(request=s.CreateDeploymentIn, response=s.DeploymentOut, status=201, tags=["deployments"])
    @idempotent
    def post(self, request: Request, project_id: int) -> Response:
        project = self.project(project_id, Role.DEVELOPER)
        body = _body(s.CreateDeploymentIn, request)
        deployment = deployments.create_deployment(
            self.actor, project, body["type"], reference=body["reference"], storage=body["storage"]
        )
        return Response(s.DeploymentOut(deployment).data, status=201)


class ProjectDeploymentsView(TeamScopedView):
    @op(response=DeploymentPage, tags=["deployments"])
    def get(self, request: Request, project_id: int) -> Response:
        project = self.project(project_id)
        live = project.deployments.exclude(status=Status.DELETED)
        return Response(paginate(request, live, s.DeploymentOut))


class DeploymentView(TeamScopedView):
    @op(response=s.DeploymentOut, tags=["deployments"])
    def get(self, request: Request, name: str) -> Response:
        return Response(s.DeploymentOut(self.deployment(name, include_deleted=True)).data)


class DeleteDeploymentView(TeamScopedView):
    @op(request=s.Empty, response=s.DeploymentOut, tags=["deployments"])
    def post(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin(deployment)
        return Response(s.DeploymentOut(deployments.delete_deployment(self.actor, deployment)).data)


class UpdateDeploymentView(TeamScopedView):
    @op(request=s.UpdateDeploymentIn, response=s.DeploymentOut, tags=["deployments"])
    def post(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin(deployment)
        body = s.UpdateDeploymentIn(data=request.data)
        body.is_valid(raise_exception=True)
        seconds = body.validated_data["suspendAfterSeconds"]
        updated = deployments.set_suspend_after(self.actor, deployment, seconds)
        return Response(s.DeploymentOut(updated).data)


class PauseDeploymentView(TeamScopedView):
    @op(request=s.Empty, response=s.DeploymentOut, tags=["deployments"])
    def post(self, request: Request, name: str) -> Response:
        deployment = deployments.pause_deployment(self.actor, self.deployment(name, Role.DEVELOPER))
        return Response(s.DeploymentOut(deployment).data)


class UnpauseDeploymentView(TeamScopedView):
    @op(request=s.Empty, response=s.DeploymentOut, tags=["deployments"])
    def post(self, request: Request, name: str) -> Response:
        deployment = deployments.unpause_deployment(
            self.actor, self.deployment(name, Role.DEVELOPER)
        )
        return Response(s.DeploymentOut(deployment).data)


class CreateDeployKeyView(TeamScopedView):
    @op(request=s.CreateDeployKeyIn, response=s.NewDeployKeyOut, status=201, tags=["keys"])
    @idempotent
    def post(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin(deployment)
        body = _body(s.CreateDeployKeyIn, request)
        key, raw = keys.create_deploy_key(
            self.actor, deployment, body["name"], body.get("allowedActions")
        )
        data = dict(s.DeployKeyOut(key).data)
        data.update(deployKey=raw, deploymentUrl=deployment_url(deployment))
        return Response(data, status=201)


class ListDeployKeysView(TeamScopedView):
    @op(response=page_serializer(s.DeployKeyOut, "DeployKeyPage"), tags=["keys"])
    def get(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        active = DeployKey.objects.filter(deployment=deployment, revoked_at=None)
        return Response(paginate(request, active, s.DeployKeyOut))


class DeleteDeployKeyView(TeamScopedView):
    @op(request=s.DeployKeyIdIn, response=s.Empty, tags=["keys"])
    def post(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin(deployment)
        keys.revoke_deploy_key(self.actor, deployment, _body(s.DeployKeyIdIn, request)["id"])
        return Response({})


class ListEnvVarsView(TeamScopedView):
    @op(response=page_serializer(s.EnvVarOut, "EnvVarPage"), tags=["deployments"])
    def get(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin(deployment)
        if deployment.status == Status.RUNNING:
            deployments.refresh_environment_variables(deployment)
        return Response(paginate(request, deployment.environment_variables.all(), s.EnvVarOut))


class UpdateEnvVarsView(TeamScopedView):
    @op(request=s.UpdateEnvIn, response=s.Empty, tags=["deployments"])
    def post(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin(deployment)
        changes = _body(s.UpdateEnvIn, request)["changes"]
        deployments.update_environment_variables(self.actor, deployment, changes)
        return Response({})


class DeploymentUsageView(TeamScopedView):
    @op(response=s.UsageOut, tags=["usage"])
    def get(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, include_deleted=True)
        return Response(deployment_month_usage(deployment).as_dict())


class UsageReportView(APIView):
    """Data planes push signed usage reports here (no bearer token: the signature is the auth)."""

    authentication_classes: list[object] = []
    permission_classes = [AllowAny]
    throttle_classes: list[object] = []

    @op(request=s.Empty, response=s.UsageReportOut, tags=["usage"])
    def post(self, request: Request) -> Response:
        _report, counted = ingest_report(request.body, request.headers.get(SIGNATURE_HEADER, ""))
        return Response({"counted": counted})
