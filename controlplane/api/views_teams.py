"""Teams: creation, members, invitations, team access tokens, audit log, usage."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.audit.models import AuditEvent
from controlplane.errors import NotFound
from controlplane.keys import actions as keys
from controlplane.keys.models import AccessToken, TokenKind
from controlplane.teams import actions as teams
from controlplane.teams.models import Invitation, Membership, Role, Team
from controlplane.usage.aggregation import team_daily_usage, team_month_usage
from controlplane.usage.quotas import exceeded, plan_for

from . import serializers as s
from .docs import op
from .idempotency import idempotent
from .pagination import page_serializer, paginate
from .scoping import TeamScopedView
from .views_auth import _body


class ListTeamsView(TeamScopedView):
    @op(response=page_serializer(s.TeamOut, "TeamPage"), tags=["teams"], operation_id="list_teams")
    def get(self, request: Request) -> Response:
        return Response(paginate(request, self.scoped(Team.objects.all(), "pk"), s.TeamOut))


class CreateTeamView(TeamScopedView):
    @op(request=s.CreateTeamIn, response=s.TeamOut, status=201, tags=["teams"])
    @idempotent
    def post(self, request: Request) -> Response:
        token = self.require_personal()
        assert token.user is not None
        team = teams.create_team(self.actor, token.user, _body(s.CreateTeamIn, request)["name"])
        return Response(s.TeamOut(team).data, status=201)


class TeamView(TeamScopedView):
    @op(response=s.TeamOut, tags=["teams"])
    def get(self, request: Request, team_id: int) -> Response:
        return Response(s.TeamOut(self.team(team_id)).data)


class ListMembersView(TeamScopedView):
    @op(response=page_serializer(s.MemberOut, "MemberPage"), tags=["teams"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id)
        members = Membership.objects.select_related("user").filter(team=team)
        return Response(paginate(request, members, s.MemberOut))


class InviteMemberView(TeamScopedView):
    @op(request=s.InviteIn, response=s.InviteOut, status=201, tags=["teams"])
    @idempotent
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        body = _body(s.InviteIn, request)
        invitation, _raw = teams.invite_member(self.actor, team, body["email"], body["role"])
        return Response(s.InviteOut(invitation).data, status=201)


class ListInvitesView(TeamScopedView):
    @op(response=page_serializer(s.InviteOut, "InvitePage"), tags=["teams"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        pending = Invitation.objects.filter(
            team=team, accepted_at=None, cancelled_at=None, expires_at__gt=timezone.now()
        )
        return Response(paginate(request, pending, s.InviteOut))


class CancelInviteView(TeamScopedView):
    @op(request=s.InviteIdIn, response=s.Empty, tags=["teams"])
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        teams.cancel_invitation(self.actor, team, _body(s.InviteIdIn, request)["inviteId"])
        return Response({})


class AcceptInviteView(TeamScopedView):
    @op(request=s.TokenIn, response=s.TeamOut, tags=["teams"])
    def post(self, request: Request) -> Response:
        token = self.require_personal()
        assert token.user is not None
        membership = teams.accept_invitation(
            self.actor, token.user, _body(s.TokenIn, request)["token"]
        )
        return Response(s.TeamOut(membership.team).data)


class UpdateMemberRoleView(TeamScopedView):
    @op(request=s.MemberRoleIn, response=s.MemberOut, tags=["teams"])
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        body = _body(s.MemberRoleIn, request)
        membership = teams.update_member_role(self.actor, team, body["memberId"], body["role"])
        return Response(s.MemberOut(membership).data)


class RemoveMemberView(TeamScopedView):
    @op(request=s.MemberIdIn, response=s.Empty, tags=["teams"])
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        teams.remove_member(self.actor, team, _body(s.MemberIdIn, request)["memberId"])
        return Response({})


class CreateTeamTokenView(TeamScopedView):
    @op(request=s.CreateTeamTokenIn, response=s.NewTokenOut, status=201, tags=["tokens"])
    @idempotent
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        body = _body(s.CreateTeamTokenIn, request)
        expires = body.get("expiresInDays")
        token, raw = keys.create_access_token(
            self.actor,
            TokenKind.TEAM,
            body["name"],
            team=team,
            role=body["role"],
            expires_at=timezone.now() + timedelta(days=expires) if expires else None,
        )
        return Response({"accessToken": raw, "tokenId": token.token_id, "name": token.name}, 201)


class ListTeamTokensView(TeamScopedView):
    @op(response=page_serializer(s.AccessTokenOut, "TeamTokenPage"), tags=["tokens"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        tokens = AccessToken.objects.filter(kind=TokenKind.TEAM, team=team, revoked_at=None)
        return Response(paginate(request, tokens, s.AccessTokenOut))


class DeleteTeamTokenView(TeamScopedView):
    @op(request=s.TokenIdIn, response=s.Empty, tags=["tokens"])
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        token_id = _body(s.TokenIdIn, request)["tokenId"]
        target = AccessToken.objects.filter(
            kind=TokenKind.TEAM, team=team, token_id=token_id, revoked_at=None
        ).first()
        if target is None:
            raise NotFound("No such team access token")
        keys.revoke_access_token(self.actor, target)
        return Response({})


class AuditLogView(TeamScopedView):
    @op(
        response=page_serializer(s.AuditEventOut, "AuditEventPage"),
        tags=["teams"],
        parameters=[s.AuditFilterIn],
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        params = s.AuditFilterIn(data=request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        events = AuditEvent.objects.filter(team=team).select_related("actor")
        if "action" in f:
            action = f["action"]
            events = (
                events.filter(action__startswith=action)
                if action.endswith(".")
                else events.filter(action=action)
            )
        if "actor" in f:
            events = events.filter(actor__email__iexact=f["actor"])
        if "since" in f:
            events = events.filter(created_at__gte=f["since"])
        if "until" in f:
            events = events.filter(created_at__lt=f["until"])
        return Response(paginate(request, events, s.AuditEventOut))


class TeamDailyUsageView(TeamScopedView):
    @op(response=s.TeamDailyUsageOut, tags=["usage"])
    def get(self, request: Request, team_id: int) -> Response:
        """This month's usage per day: what the console charts against the plan's limits."""
        team = self.team(team_id)
        return Response({"items": team_daily_usage(team)})


class TeamUsageView(TeamScopedView):
    @op(response=s.TeamUsageOut, tags=["usage"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id)
        return Response(
            {
                "plan": plan_for(team).name,
                "usage": team_month_usage(team).as_dict(),
                "overQuota": exceeded(team),
            }
        )
