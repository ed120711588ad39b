"""Sign-up, email verification, login, password reset; token details and personal tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.accounts import actions as accounts
from controlplane.audit.actions import Actor
from controlplane.errors import NotFound
from controlplane.keys import actions as keys
from controlplane.keys.models import AccessToken, TokenKind

from . import serializers as s
from .docs import op
from .idempotency import idempotent
from .pagination import page_serializer, paginate
from .scoping import TeamScopedView
from .throttling import AnonRateThrottle


def _body(serializer: type[s.serializers.Serializer], request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class AnonymousView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]


class SignUpView(AnonymousView):
    @op(request=s.SignUpIn, response=s.SignUpOut, status=201, tags=["auth"])
    def post(self, request: Request) -> Response:
        """The same answer whether or not the address already has an account (the owner of
        an existing one is told by email)."""
        body = _body(s.SignUpIn, request)
        accounts.sign_up(body["email"], body["password"], body["name"])
        return Response({"email": body["email"].strip().lower()}, status=201)


class VerifyEmailView(AnonymousView):
    @op(request=s.TokenIn, response=s.VerifiedOut, tags=["auth"])
    def post(self, request: Request) -> Response:
        user = accounts.verify_email(_body(s.TokenIn, request)["token"])
        return Response({"email": user.email, "verified": True})


class LoginView(AnonymousView):
    @op(request=s.LoginIn, response=s.NewTokenOut, status=201, tags=["auth"])
    def post(self, request: Request) -> Response:
        body = _body(s.LoginIn, request)
        user = accounts.check_credentials(body["email"], body["password"])
        token, raw = keys.create_access_token(
            Actor(user=user), TokenKind.PERSONAL, body["tokenName"], user=user
        )
        return Response({"accessToken": raw, "tokenId": token.token_id, "name": token.name}, 201)


class RequestPasswordResetView(AnonymousView):
    @op(request=s.EmailIn, response=s.Empty, status=202, tags=["auth"])
    def post(self, request: Request) -> Response:
        accounts.request_password_reset(_body(s.EmailIn, request)["email"])
        return Response({}, status=202)


class ResetPasswordView(AnonymousView):
    @op(request=s.ResetIn, response=s.Empty, tags=["auth"])
    def post(self, request: Request) -> Response:
        body = _body(s.ResetIn, request)
        accounts.reset_password(body["token"], body["password"])
        return Response({})


class ChangePasswordView(TeamScopedView):
    @op(request=s.ChangePasswordIn, response=s.Empty, tags=["auth"])
    def post(self, request: Request) -> Response:
        token = self.require_personal()
        assert token.user is not None
        body = _body(s.ChangePasswordIn, request)
        accounts.change_password(
            self.actor, token.user, body["currentPassword"], body["newPassword"]
        )
        return Response({})


class TokenDetailsView(TeamScopedView):
    @op(response=s.TokenDetailsOut, tags=["tokens"])
    def get(self, request: Request) -> Response:
        token = self.token
        return Response(
            {
                "type": token.kind,
                "tokenId": token.token_id,
                "name": token.name,
                "userId": token.user_id,
                "teamId": token.team_id,
                "role": keys.team_token_role(token) if token.kind == TokenKind.TEAM else None,
            }
        )


class ListPersonalTokensView(TeamScopedView):
    @op(response=page_serializer(s.AccessTokenOut, "AccessTokenPage"), tags=["tokens"])
    def get(self, request: Request) -> Response:
        token = self.require_personal()
        tokens = AccessToken.objects.filter(
            kind=TokenKind.PERSONAL, user=token.user, revoked_at=None
        )
        return Response(paginate(request, tokens, s.AccessTokenOut))


class CreatePersonalTokenView(TeamScopedView):
    @op(request=s.CreatePersonalTokenIn, response=s.NewTokenOut, status=201, tags=["tokens"])
    @idempotent
    def post(self, request: Request) -> Response:
        token = self.require_personal()
        body = _body(s.CreatePersonalTokenIn, request)
        expires = body.get("expiresInDays")
        new, raw = keys.create_access_token(
            self.actor,
            TokenKind.PERSONAL,
            body["name"],
            user=token.user,
            expires_at=timezone.now() + timedelta(days=expires) if expires else None,
        )
        return Response({"accessToken": raw, "tokenId": new.token_id, "name": new.name}, 201)


class DeletePersonalTokenView(TeamScopedView):
    @op(request=s.TokenIdIn, response=s.Empty, tags=["tokens"])
    def post(self, request: Request) -> Response:
        token = self.require_personal()
        token_id = _body(s.TokenIdIn, request)["tokenId"]
        target = AccessToken.objects.filter(
            kind=TokenKind.PERSONAL, user=token.user, token_id=token_id, revoked_at=None
        ).first()
        if target is None:
            raise NotFound("No such personal access token")
        keys.revoke_access_token(self.actor, target)
        return Response({})
