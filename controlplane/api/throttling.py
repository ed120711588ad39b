"""Rate limiting per token (or per client address), read from settings at request time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from .client_ip import client_ip


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str:
        return f"{settings.STRATA_API_RATE_LIMIT}/min"

    def allow_request(self, request: Request, view: Any) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request: Request) -> str:
        """The peer address, or the client address a trusted proxy reports (never a header
        the client itself controls)."""
        return client_ip(request)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = getattr(request, "auth", None)
        ident = f"t{token.token_id}" if token is not None else f"ip{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"


class AnonRateThrottle(TokenRateThrottle):
    """Stricter limit for unauthenticated endpoints (sign-up, login, password reset)."""

    scope = "anon"

    def get_rate(self) -> str:
        return f"{settings.STRATA_API_ANON_RATE_LIMIT}/min"
