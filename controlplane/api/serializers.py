"""Request and response shapes of /v1 (also what the OpenAPI schema documents)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from controlplane.deployments.actions import deployment_url, host_url
from controlplane.deployments.models import Deployment, DeploymentType, Storage
from controlplane.keys.actions import DEPLOY_KEY_ACTIONS
from controlplane.teams.models import Role

ROLE_CHOICES = list(Role.values)
NON_OWNER_ROLES = [r for r in Role.values if r != Role.OWNER]


class Error(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class Empty(serializers.Serializer):
    pass


# ---- accounts ------------------------------------------------------------------------------


class SignUpIn(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    password = serializers.CharField(min_length=1, max_length=200, trim_whitespace=False)
    name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)


class SignUpOut(serializers.Serializer):
    email = serializers.EmailField(help_text="A verification email was sent to this address.")


class TokenIn(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class VerifiedOut(serializers.Serializer):
    email = serializers.EmailField()
    verified = serializers.BooleanField()


class LoginIn(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    tokenName = serializers.CharField(max_length=100, required=False, default="login")


class NewTokenOut(serializers.Serializer):
    accessToken = serializers.CharField(help_text="Shown once; store it now.")
    tokenId = serializers.CharField()
    name = serializers.CharField()


class EmailIn(serializers.Serializer):
    email = serializers.EmailField(max_length=150)


class ResetIn(serializers.Serializer):
    token = serializers.CharField(max_length=500)
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class ChangePasswordIn(serializers.Serializer):
    currentPassword = serializers.CharField(max_length=200, trim_whitespace=False)
    newPassword = serializers.CharField(max_length=200, trim_whitespace=False)


# ---- tokens --------------------------------------------------------------------------------


class TokenDetailsOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["personal", "team"])
    tokenId = serializers.CharField()
    name = serializers.CharField()
    userId = serializers.IntegerField(allow_null=True)
    teamId = serializers.IntegerField(allow_null=True)
    role = serializers.CharField(allow_null=True)


class AccessTokenOut(serializers.Serializer):
    id = serializers.CharField(source="token_id")
    name = serializers.CharField()
    kind = serializers.CharField()
    role = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    expiresAt = serializers.DateTimeField(source="expires_at", allow_null=True)


class CreatePersonalTokenIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expiresInDays = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class CreateTeamTokenIn(CreatePersonalTokenIn):
    role = serializers.ChoiceField(choices=NON_OWNER_ROLES, default=Role.DEVELOPER)


class TokenIdIn(serializers.Serializer):
    tokenId = serializers.CharField(max_length=32)


# ---- teams ---------------------------------------------------------------------------------


class TeamOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    plan = serializers.CharField()


class CreateTeamIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField(source="user_id")
    email = serializers.EmailField(source="user.email")
    role = serializers.CharField()


class InviteIn(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class InviteOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    expiresAt = serializers.DateTimeField(source="expires_at")


class InviteIdIn(serializers.Serializer):
    inviteId = serializers.IntegerField()


class MemberRoleIn(serializers.Serializer):
    memberId = serializers.IntegerField()
    role = serializers.ChoiceField(choices=ROLE_CHOICES)


class MemberIdIn(serializers.Serializer):
    memberId = serializers.IntegerField()


class AuditEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    actorId = serializers.IntegerField(source="actor_id", allow_null=True)
    actorToken = serializers.CharField(source="actor_token")
    actorEmail = serializers.SerializerMethodField()
    targetType = serializers.CharField(source="target_type")
    targetId = serializers.CharField(source="target_id")
    metadata = serializers.DictField()
    createdAt = serializers.DateTimeField(source="created_at")

    def get_actorEmail(self, obj: Any) -> str | None:
        return obj.actor.email if obj.actor is not None else None


class AuditFilterIn(serializers.Serializer):
    """Query parameters of the audit log: all optional, combined with AND."""

    action = serializers.CharField(
        max_length=64, required=False, help_text="An action, or a prefix ending in '.'"
    )
    actor = serializers.EmailField(required=False, help_text="The acting user's email")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


# ---- projects and deployments --------------------------------------------------------------


class CreateProjectIn(serializers.Serializer):
    projectName = serializers.CharField(max_length=100)
    deploymentType = serializers.ChoiceField(choices=["dev", "prod"], required=False)
    storage = serializers.ChoiceField(choices=list(Storage.values), default=Storage.SQLITE)


class UpdateProjectIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class CreateProjectOut(serializers.Serializer):
    projectId = serializers.IntegerField()
    projectSlug = serializers.CharField()
    deploymentName = serializers.CharField(allow_null=True)
    deploymentUrl = serializers.CharField(allow_null=True)


class ProjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    teamId = serializers.IntegerField(source="team_id")
    name = serializers.CharField()
    slug = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


class CreateDeploymentIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(DeploymentType.values))
    # "" (the console's empty field) means no reference, as leaving it out does.
    reference = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", required=False, default="", allow_blank=True
    )
    storage = serializers.ChoiceField(choices=list(Storage.values), default=Storage.SQLITE)


class DeploymentOut(serializers.Serializer):
    name = serializers.CharField()
    projectId = serializers.IntegerField(source="project_id")
    deploymentType = serializers.CharField(source="type")
    status = serializers.CharField()
    statusReason = serializers.CharField(source="status_reason")
    reference = serializers.CharField()
    storage = serializers.CharField()
    deploymentUrl = serializers.SerializerMethodField()
    hostUrl = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    purgeAfter = serializers.DateTimeField(source="purge_after", allow_null=True)
    suspendedAt = serializers.DateTimeField(
        source="suspended_at", allow_null=True, help_text="Set while status is 'suspended'."
    )
    wakeAt = serializers.DateTimeField(
        source="wake_at",
        allow_null=True,
        help_text="When a suspended deployment is woken for its next scheduled function.",
    )
    suspendAfterSeconds = serializers.IntegerField(
        source="suspend_after_s",
        allow_null=True,
        help_text="Idle seconds before it is suspended; null: the platform's default; 0: never.",
    )

    def get_deploymentUrl(self, obj: Deployment) -> str:
        return deployment_url(obj)

    def get_hostUrl(self, obj: Deployment) -> str:
        return host_url(obj)


class UpdateDeploymentIn(serializers.Serializer):
    suspendAfterSeconds = serializers.IntegerField(
        min_value=0,
        allow_null=True,
        help_text="Idle seconds before it is suspended; null: the platform's default; 0: never.",
    )


class CreateDeployKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    allowedActions = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(DEPLOY_KEY_ACTIONS)),
        required=False,
        max_length=len(DEPLOY_KEY_ACTIONS),
    )


class DeployKeyOut(serializers.Serializer):
    id = serializers.CharField(source="key_id")
    name = serializers.CharField()
    allowedActions = serializers.ListField(child=serializers.CharField(), source="allowed_actions")
    createdAt = serializers.DateTimeField(source="created_at")


class NewDeployKeyOut(DeployKeyOut):
    deployKey = serializers.CharField(help_text="Shown once; store it now.")
    deploymentUrl = serializers.CharField()


class DeployKeyIdIn(serializers.Serializer):
    id = serializers.CharField(max_length=32)


class EnvVarOut(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class EnvChange(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    value = serializers.CharField(
        allow_null=True, required=False, default=None, allow_blank=True, trim_whitespace=False
    )


class UpdateEnvIn(serializers.Serializer):
    changes = EnvChange(many=True)

    def validate_changes(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > 1000:
            raise serializers.ValidationError("at most 1000 changes at once")
        return value


class UsageOut(serializers.Serializer):
    periodStart = serializers.DateField()
    functionCalls = serializers.IntegerField()
    dbBytesRead = serializers.IntegerField()
    dbBytesWritten = serializers.IntegerField()
    storageBytes = serializers.IntegerField()
    actionComputeMbMs = serializers.IntegerField()
    actionGbHours = serializers.FloatField()


class DailyUsageOut(serializers.Serializer):
    day = serializers.DateField()
    functionCalls = serializers.IntegerField()
    dbBytesRead = serializers.IntegerField()
    dbBytesWritten = serializers.IntegerField()
    storageBytes = serializers.IntegerField()
    actionGbHours = serializers.FloatField()


class TeamDailyUsageOut(serializers.Serializer):
    items = DailyUsageOut(many=True)


class TeamUsageOut(serializers.Serializer):
    plan = serializers.CharField()
    usage = UsageOut()
    overQuota = serializers.ListField(child=serializers.CharField())


class UsageReportOut(serializers.Serializer):
    counted = serializers.BooleanField()
