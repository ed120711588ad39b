"""Bearer-token authentication for /v1: personal and team access tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from controlplane.keys.actions import authenticate_token
from controlplane.keys.models import AccessToken


@dataclass(frozen=True)
class TeamTokenPrincipal:
    """request.user for a team token: authenticated, but no person behind it."""

    token: AccessToken
    is_authenticated: bool = True
    is_active: bool = True
    pk: None = None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw = header.strip().partition(" ")
        if not header:
            return None
        if scheme.lower() != self.keyword or not raw.strip():
            raise exceptions.AuthenticationFailed(
                "Send 'Authorization: Bearer <access token>'", code="InvalidAuthHeader"
            )
        token = authenticate_token(raw.strip())
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The access token is invalid, expired or revoked", code="InvalidToken"
            )
        principal = token.user if token.user is not None else TeamTokenPrincipal(token)
        return principal, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="strata"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "controlplane.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
