"""Key and token writes. Secrets are returned once and only their SHA-256 is stored.

Deploy keys are minted by contract.keys under the deployment's instance secret, so the data
plane verifies them with no database; revocation is published to it through the driver.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contract.keys import ALL_ACTIONS, mint_key
from contract.scopes import key_actions
from controlplane.audit.actions import Actor, record
from controlplane.deployments.models import Deployment, Status
from controlplane.errors import ActionError, NotFound
from controlplane.teams.models import ROLE_RANK, Membership, Role, Team

from .models import AccessToken, DeployKey, TokenKind

# The allowed actions a deploy key may be scoped to (Convex's names); "*" = admin key.
DEPLOY_KEY_ACTIONS = frozenset(
    {
        ALL_ACTIONS,
        "deployment:deploy",
        "deployment:env:view",
        "deployment:env:write",
        "deployment:pause",
        "deployment:unpause",
        "deployment:logs:view",
        "deployment:metrics:view",
        "deployment:data:view",
        "deployment:data:write",
        "deployment:backups:view",
        "deployment:backups:create",
        "deployment:backups:download",
        "deployment:backups:delete",
        "deployment:backups:import",
        "deployment:functions:actAsUser",
        "deployment:functions:runInternalQueries",
        "deployment:functions:runInternalMutations",
        "deployment:functions:runInternalActions",
        "deployment:functions:runTestQuery",
        "deployment:auditLog:view",
    }
)
TOKEN_PREFIX = {TokenKind.PERSONAL: "strata_pat", TokenKind.TEAM: "strata_tat"}


def sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_deploy_key(
    actor: Actor, deployment: Deployment, name: str, allowed_actions: list[str] | None
) -> tuple[DeployKey, str]:
    if deployment.status == Status.DELETED:
        raise ActionError("The deployment is deleted", code="DeploymentDeleted")
    actions = sorted(set(allowed_actions or [ALL_ACTIONS]))
    unknown = [a for a in actions if a not in DEPLOY_KEY_ACTIONS]
    if unknown:
        raise ActionError(
            f"Unknown allowedActions {unknown}; valid: {sorted(DEPLOY_KEY_ACTIONS)}",
            code="InvalidAllowedActions",
        )
    key_id = secrets.token_hex(8)
    raw = mint_key(
        deployment.name, deployment.instance_secret, key_id=key_id, actions=key_actions(actions)
    )
    key = DeployKey.objects.create(
        deployment=deployment,
        name=name,
        key_id=key_id,
        key_hash=sha256(raw),
        allowed_actions=actions,
        created_by=actor.user,
    )
    record(actor, deployment.project.team, "deploy_key.create", key, name=name, actions=actions)
    return key, raw


@transaction.atomic
def revoke_deploy_key(actor: Actor, deployment: Deployment, key_id: str) -> DeployKey:
    from controlplane.deployments import tasks

    key = DeployKey.objects.filter(deployment=deployment, key_id=key_id, revoked_at=None).first()
    if key is None:
        raise NotFound("No active deploy key with this id", code="DeployKeyNotFound")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record(actor, deployment.project.team, "deploy_key.revoke", key, name=key.name)
    transaction.on_commit(lambda: tasks.publish_revocations.delay(deployment.pk))
    return key


@transaction.atomic
def create_access_token(
    actor: Actor,
    kind: str,
    name: str,
    *,
    user: object = None,
    team: Team | None = None,
    role: str = Role.DEVELOPER,
    expires_at: datetime | None = None,
) -> tuple[AccessToken, str]:
    """Personal tokens act as `user` in all their teams; team tokens act in `team` as `role`,
    never above their creator's current role there (see `team_token_role`)."""
    token_id = secrets.token_hex(6)
    raw = f"{TOKEN_PREFIX[TokenKind(kind)]}_{token_id}_{secrets.token_urlsafe(32)}"
    token = AccessToken.objects.create(
        kind=kind,
        user=user if kind == TokenKind.PERSONAL else None,
        team=team if kind == TokenKind.TEAM else None,
        role=role,
        name=name,
        token_id=token_id,
        token_hash=sha256(raw),
        created_by=_accountable_user(actor),
        expires_at=expires_at,
    )
    record(actor, team, f"{kind}_token.create", token, name=name)
    return token, raw


def _accountable_user(actor: Actor) -> object:
    """The person a new token answers to: the actor, or the creator of the team token acting
    (so a token minted by a team token dies with the same membership)."""
    if actor.user is not None:
        return actor.user
    return actor.token.created_by if actor.token is not None else None


def team_token_role(token: AccessToken) -> str | None:
    """The role a team token acts with now: the lesser of its own role and its creator's
    current role in the team, or None when its creator is no longer an active member (then
    the token is refused). Checked on every request, so a demotion takes effect at once."""
    if token.team_id is None or token.created_by_id is None:
        return None
    creator_role = (
        Membership.objects.filter(
            team_id=token.team_id, user_id=token.created_by_id, user__is_active=True
        )
        .values_list("role", flat=True)
        .first()
    )
    if creator_role is None:
        return None
    return min(Role(token.role), Role(creator_role), key=ROLE_RANK.__getitem__)


@transaction.atomic
def revoke_team_tokens_of(actor: Actor, team: Team, user_id: int) -> None:
    """Revoke the live team tokens `user_id` created for `team` (on removal from the team)."""
    for token in AccessToken.objects.filter(
        kind=TokenKind.TEAM, team=team, created_by_id=user_id, revoked_at=None
    ):
        revoke_access_token(actor, token)


@transaction.atomic
def revoke_access_token(actor: Actor, token: AccessToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, token.team, f"{token.kind}_token.revoke", token, name=token.name)


def authenticate_token(raw: str) -> AccessToken | None:
    """The live token `raw` names, or None (constant-time hash comparison)."""
    parts = raw.split("_")
    if len(parts) < 4 or f"{parts[0]}_{parts[1]}" not in TOKEN_PREFIX.values():
        return None
    token = (
        AccessToken.objects.select_related("user", "team")
        .filter(token_id=parts[2], revoked_at=None)
        .first()
    )
    if token is None or not hmac.compare_digest(token.token_hash, sha256(raw)):
        return None
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return None
    if token.user is not None and not token.user.is_active:
        return None
    if token.kind == TokenKind.TEAM and team_token_role(token) is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
