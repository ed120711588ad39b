"""Documents a deployment serves from its own HTTP actions, fetched without a network round trip.

An app that issues its own tokens (Convex Auth: `domain: process.env.CONVEX_SITE_URL`) serves
its OpenID configuration and JWKS from convex/http.js. Verifying such a token must not make a
blocking HTTP request back to this same process (the thread waiting for the answer may be the
one that has to serve it), so URLs under the deployment's own site URL are answered by running
the HTTP action in-process, exactly as a GET from outside would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .deployment import Deployment


class OwnSiteError(Exception):
    """The deployment's own HTTP action did not answer with a document."""


def installed_deployment() -> Deployment | None:
    """The deployment this process serves, if one is installed (never creates one)."""
    from . import deployment

    return deployment._current


def own_site_url(deployment: Deployment) -> str:
    from .deploy.activation import site_url

    return site_url(deployment).rstrip("/")


def is_own(deployment: Deployment | None, url: str) -> bool:
    """Whether `url` is served by this deployment's HTTP actions."""
    if deployment is None:
        return False
    site = own_site_url(deployment)
    return url == site or url.startswith(site + "/")


def fetch_own(deployment: Deployment | None, url: str) -> bytes:
    """GET `url` (under the deployment's site URL) through its HTTP actions, in-process."""
    from .deploy.activation import active_app

    if deployment is None or active_app(deployment) is None:
        raise OwnSiteError(f"{url}: this deployment has no code deployed")
    # The router sees the path after the site URL's /http, as for a request from outside.
    routed = deployment.config.public_url.rstrip("/") + (
        url[len(own_site_url(deployment)) :] or "/"
    )
    response = deployment.runner.run_http_action(
        "GET", routed, [("accept", "application/json")], None
    )
    if not 200 <= response.status < 300:
        raise OwnSiteError(f"{url} answered with status {response.status}")
    return response.body
