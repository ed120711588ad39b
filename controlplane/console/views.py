"""The console's two routes: the SPA shell at / and its hashed assets.

The SPA talks to /v1 with a bearer token, so these views hold no session state; they only
send files, with a CSP that lets the page reach deployment URLs (other origins) and nothing
else, and cache headers that suit Vite's content-hashed file names.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        # Deployment URLs are other origins (per-port or per-host); the official client uses
        # both HTTP and WebSockets against them.
        "connect-src 'self' http: https: ws: wss:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
NOT_BUILT = (
    "The web console is not built. Run ./scripts/install (or: cd frontend && npm ci && "
    "npm run build) and reload."
)


def dist_dir() -> Path:
    """Where the built SPA lives; STRATA_CONSOLE_DIST overrides it (tests, packaging)."""
    configured = getattr(settings, "STRATA_CONSOLE_DIST", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / "frontend" / "dist"


def _secure(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "same-origin"
    response["X-Frame-Options"] = "DENY"
    return response


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    shell = dist_dir() / "index.html"
    if not shell.is_file():
        return _secure(HttpResponse(NOT_BUILT, status=503, content_type="text/plain"))
    response = HttpResponse(shell.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return _secure(response)


@require_GET
def asset(request: HttpRequest, path: str) -> FileResponse:
    root = dist_dir().resolve()
    target = (root / path).resolve()
    # Reject anything that escapes dist/ (.., absolute paths, symlinks out) and the shell.
    if not target.is_relative_to(root) or not target.is_file() or target.name == "index.html":
        raise Http404("No such console asset")
    content_type, _ = mimetypes.guess_type(target.name)
    response = FileResponse(
        target.open("rb"), content_type=content_type or "application/octet-stream"
    )
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    _secure(response)
    return response
