"""Routes of /v1, named after Convex's management API operations where one exists."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from . import views_auth as a
from . import views_backups as b
from . import views_deployments as d
from . import views_teams as t

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(permission_classes=[]), name="openapi"),
    path("auth/sign_up", a.SignUpView.as_view()),
    path("auth/verify_email", a.VerifyEmailView.as_view()),
    path("auth/login", a.LoginView.as_view()),
    path("auth/request_password_reset", a.RequestPasswordResetView.as_view()),
    path("auth/reset_password", a.ResetPasswordView.as_view()),
    path("auth/change_password", a.ChangePasswordView.as_view()),
    path("token_details", a.TokenDetailsView.as_view()),
    path("list_personal_access_tokens", a.ListPersonalTokensView.as_view()),
    path("create_personal_access_token", a.CreatePersonalTokenView.as_view()),
    path("delete_personal_access_token", a.DeletePersonalTokenView.as_view()),
    path("teams", t.ListTeamsView.as_view()),
    path("teams/create_team", t.CreateTeamView.as_view()),
    path("invites/accept", t.AcceptInviteView.as_view()),
    path("teams/<int:team_id>", t.TeamView.as_view()),
    path("teams/<int:team_id>/list_members", t.ListMembersView.as_view()),
    path("teams/<int:team_id>/invite_team_member", t.InviteMemberView.as_view()),
    path("teams/<int:team_id>/list_pending_invites", t.ListInvitesView.as_view()),
    path("teams/<int:team_id>/cancel_team_member_invite", t.CancelInviteView.as_view()),
    path("teams/<int:team_id>/update_team_member_role", t.UpdateMemberRoleView.as_view()),
    path("teams/<int:team_id>/remove_team_member", t.RemoveMemberView.as_view()),
    path("teams/<int:team_id>/create_access_token", t.CreateTeamTokenView.as_view()),
    path("teams/<int:team_id>/list_access_tokens", t.ListTeamTokensView.as_view()),
    path("teams/<int:team_id>/delete_access_token", t.DeleteTeamTokenView.as_view()),
    path("teams/<int:team_id>/list_audit_log_events", t.AuditLogView.as_view()),
    path("teams/<int:team_id>/usage", t.TeamUsageView.as_view()),
    path("teams/<int:team_id>/usage/daily", t.TeamDailyUsageView.as_view()),
    path("teams/<int:team_id>/create_project", d.CreateProjectView.as_view()),
    path("teams/<int:team_id>/projects", d.ListProjectsView.as_view()),
    path("teams/<int:team_id>/list_deployments", d.TeamDeploymentsView.as_view()),
    path("projects/<int:project_id>", d.ProjectView.as_view()),
    path("projects/<int:project_id>/update", d.UpdateProjectView.as_view()),
    path("projects/<int:project_id>/delete", d.DeleteProjectView.as_view()),
    path("projects/<int:project_id>/create_deployment", d.CreateDeploymentView.as_view()),
    path("projects/<int:project_id>/list_deployments", d.ProjectDeploymentsView.as_view()),
    path("deployments/<str:name>", d.DeploymentView.as_view()),
    path("deployments/<str:name>/delete", d.DeleteDeploymentView.as_view()),
    path("deployments/<str:name>/update", d.UpdateDeploymentView.as_view()),
    path("deployments/<str:name>/pause", d.PauseDeploymentView.as_view()),
    path("deployments/<str:name>/unpause", d.UnpauseDeploymentView.as_view()),
    path("deployments/<str:name>/create_deploy_key", d.CreateDeployKeyView.as_view()),
    path("deployments/<str:name>/list_deploy_keys", d.ListDeployKeysView.as_view()),
    path("deployments/<str:name>/delete_deploy_key", d.DeleteDeployKeyView.as_view()),
    path("deployments/<str:name>/list_environment_variables", d.ListEnvVarsView.as_view()),
    path("deployments/<str:name>/update_environment_variables", d.UpdateEnvVarsView.as_view()),
    path("deployments/<str:name>/usage", d.DeploymentUsageView.as_view()),
    path("deployments/<str:name>/create_backup", b.CreateBackupView.as_view()),
    path("deployments/<str:name>/list_backups", b.ListBackupsView.as_view()),
    path("deployments/<str:name>/restore_backup", b.RestoreBackupView.as_view()),
    path("deployments/<str:name>/backup_schedule", b.BackupScheduleView.as_view()),
    path("backups/<int:backup_id>", b.GetBackupView.as_view()),
    path("backups/<int:backup_id>/delete", b.DeleteBackupView.as_view()),
    path("backups/<int:backup_id>/download", b.DownloadBackupView.as_view()),
    path("restores/<int:restore_id>", b.GetRestoreView.as_view()),
    path("usage/report", d.UsageReportView.as_view()),
]
