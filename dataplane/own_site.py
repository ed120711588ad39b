"""Documents a deployment serves from its own HTTP actions, fetched without a network round trip.

An app that issues its own tokens (Convex Auth: `domain: process.env.CONVEX_SITE_URL`) serves
its OpenID configuration and JWKS from convex/http.js. Verifying such a token must not make a
blocking HTTP request back to this same process (the thread waiting for the answer may be the
one that has to serve it), so URLs under the deployment's own site URL are answered by running
the HTTP action in-process, exactly as a GET from outside would.
"""

from __future__ import annotations

from collections.abc import Callable

from .runtime import FunctionRunner


class OwnSiteError(ValueError):
    """The deployment's own HTTP action did not answer with a document."""


class OwnSite:
    """`auth.LocalDocuments` for one deployment: its HTTP actions under its site URL."""

    def __init__(
        self,
        runner: FunctionRunner,
        has_code: Callable[[], bool],
        *,
        public_url: str,
        site_url: str,
    ) -> None:
        self.runner = runner
        self.has_code = has_code
        self.public_url = public_url.rstrip("/")
        self.site_url = site_url.rstrip("/")

    def serves(self, url: str) -> bool:
        """Whether `url` is served by this deployment's HTTP actions."""
        return url == self.site_url or url.startswith(self.site_url + "/")

    def fetch(self, url: str) -> bytes:
        """GET `url` (under the site URL) through the deployment's HTTP actions, in-process."""
        if not self.has_code():
            raise OwnSiteError(f"{url}: this deployment has no code deployed")
        # The router sees the path after the site URL's /http, as for a request from outside.
        routed = self.public_url + (url[len(self.site_url) :] or "/")
        response = self.runner.run_http_action(
            "GET", routed, [("accept", "application/json")], None
        )
        if not 200 <= response.status < 300:
            raise OwnSiteError(f"{url} answered with status {response.status}")
        return response.body
