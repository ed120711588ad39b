"""Team writes: creation, invitations, roles, membership. Each emits an audit event."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from controlplane.audit.actions import Actor, record
from controlplane.errors import ActionError, Conflict, NotFound, PermissionDenied
from controlplane.keys.actions import revoke_team_tokens_of, team_token_role
from controlplane.links import console_link

from .models import Invitation, Membership, Role, Team

INVITE_TTL = timedelta(days=7)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _unique_slug(name: str) -> str:
    base = slugify(name)[:48] or "team"
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_team(actor: Actor, user: User, name: str, plan: str = "free") -> Team:
    team = Team.objects.create(name=name, slug=_unique_slug(name), plan=plan)
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    record(actor, team, "team.create", team, name=name)
    return team


@transaction.atomic
def invite_member(actor: Actor, team: Team, email: str, role: str) -> tuple[Invitation, str]:
    """Create an invitation and email its single-use token; returns (invitation, raw token)."""
    email = email.strip().lower()
    if role == Role.OWNER and not _is_owner(actor, team):
        raise PermissionDenied("Only an owner can invite another owner")
    if Membership.objects.filter(team=team, user__username=email).exists():
        raise Conflict(f"{email} is already a member of this team", code="AlreadyMember")
    Invitation.objects.filter(team=team, email=email, accepted_at=None, cancelled_at=None).update(
        cancelled_at=timezone.now()
    )
    raw = "inv_" + secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        team=team,
        email=email,
        role=role,
        token_hash=hash_token(raw),
        invited_by=actor.user,
        expires_at=timezone.now() + INVITE_TTL,
    )
    record(actor, team, "team.invite", invitation, email=email, role=role)
    send_mail(
        f"You are invited to the {team.name} team on Strata",
        "Join the team by opening this link (valid 7 days):\n\n"
        f"{console_link('/invites/accept', raw)}\n\n"
        f"Or accept with this token:\n\n{raw}\n\nPOST /v1/invites/accept",
        None,
        [email],
    )
    return invitation, raw


@transaction.atomic
def accept_invitation(actor: Actor, user: User, raw: str) -> Membership:
    try:
        invitation = Invitation.objects.select_for_update().get(token_hash=hash_token(raw))
    except Invitation.DoesNotExist as exc:
        raise NotFound("No such invitation", code="InvitationNotFound") from exc
    if not invitation.pending or invitation.expires_at < timezone.now():
        raise ActionError("This invitation is no longer valid", code="InvitationExpired")
    if invitation.email != user.email.lower():
        raise PermissionDenied("This invitation was sent to another email address")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                team=invitation.team, user=user, role=invitation.role
            )
    except IntegrityError as exc:
        raise Conflict("You are already a member of this team", code="AlreadyMember") from exc
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record(actor, invitation.team, "team.join", membership, role=invitation.role)
    return membership


@transaction.atomic
def cancel_invitation(actor: Actor, team: Team, invitation_id: int) -> None:
    invitation = Invitation.objects.filter(team=team, pk=invitation_id).first()
    if invitation is None or not invitation.pending:
        raise NotFound("No pending invitation with this id", code="InvitationNotFound")
    invitation.cancelled_at = timezone.now()
    invitation.save(update_fields=["cancelled_at"])
    record(actor, team, "team.cancel_invite", invitation, email=invitation.email)


def _is_owner(actor: Actor, team: Team) -> bool:
    if actor.token is not None and actor.token.team_id == team.pk:
        return team_token_role(actor.token) == Role.OWNER
    return (
        actor.user is not None
        and Membership.objects.filter(team=team, user=actor.user, role=Role.OWNER).exists()
    )


def _owners_left_without(team: Team, user_id: int) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).exclude(user_id=user_id).count()


@transaction.atomic
def update_member_role(actor: Actor, team: Team, user_id: int, role: str) -> Membership:
    membership = Membership.objects.select_for_update().filter(team=team, user_id=user_id).first()
    if membership is None:
        raise NotFound("No member with this id in the team", code="MemberNotFound")
    if Role.OWNER in (role, membership.role) and not _is_owner(actor, team):
        raise PermissionDenied("Only an owner can grant or take away the owner role")
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and not _owners_left_without(team, user_id)
    ):
        raise ActionError("A team needs at least one owner", code="LastOwner")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record(actor, team, "team.update_role", membership, user_id=user_id, old=old, new=role)
    return membership


@transaction.atomic
def remove_member(actor: Actor, team: Team, user_id: int) -> None:
    membership = Membership.objects.select_for_update().filter(team=team, user_id=user_id).first()
    if membership is None:
        raise NotFound("No member with this id in the team", code="MemberNotFound")
    if membership.role == Role.OWNER:
        if not _is_owner(actor, team):
            raise PermissionDenied("Only an owner can remove an owner")
        if not _owners_left_without(team, user_id):
            raise ActionError("A team needs at least one owner", code="LastOwner")
    membership.delete()
    # A removed member's personal tokens stop working for this team at once (membership is
    # re-checked on every request) and the team tokens they created are revoked; their dev
    # deployments and deploy keys stay with the team for an admin to review.
    record(actor, team, "team.remove_member", team, user_id=user_id)
    revoke_team_tokens_of(actor, team, user_id)
