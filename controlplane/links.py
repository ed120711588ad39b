"""Links into the web console that emails carry (verification, password reset, invitations)."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings


def console_link(route: str, token: str) -> str:
    """`<control plane>/#<route>?token=...`: the token rides in the fragment, which browsers
    never send to a server, so it stays out of access logs and Referer headers."""
    base = str(settings.STRATA_CONTROL_PLANE_URL).rstrip("/")
    return f"{base}/#{route}?token={quote(token, safe='')}"
