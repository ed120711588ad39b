"""The control plane's calls into a running data plane, through its public admin endpoints."""

from __future__ import annotations

import logging

import httpx

from contract.activity import ACTIVITY_PATH, ActivityReport, ActivityReportError
from contract.keys import mint_key

log = logging.getLogger(__name__)
CONTROLPLANE_KEY_ID = "controlplane"


class DataPlaneClient:
    def __init__(self, url: str, deployment: str, instance_secret: str) -> None:
        self.url = url.rstrip("/")
        self._key = mint_key(deployment, instance_secret, key_id=CONTROLPLANE_KEY_ID)

    def list_environment_variables(self) -> dict[str, str] | None:
        """The deployment's variables as the data plane holds them (None if it cannot answer).

        The data plane is the source of truth: `npx convex env set` writes there directly."""
        try:
            response = httpx.get(
                f"{self.url}/api/list_environment_variables",
                headers={"Authorization": f"Convex {self._key}"},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            log.info("reading environment variables from %s failed: %s", self.url, exc)
            return None
        if response.status_code != 200:
            log.warning(
                "data plane %s did not list environment variables: %s",
                self.url,
                response.status_code,
            )
            return None
        env = response.json().get("environmentVariables")
        if not isinstance(env, dict):
            return None
        return {str(k): str(v) for k, v in env.items()}

    def update_environment_variables(self, changes: list[dict[str, str | None]]) -> bool:
        """Push `[{name, value|None}]` the way `npx convex env` does; False if not accepted."""
        try:
            response = httpx.post(
                f"{self.url}/api/update_environment_variables",
                json={"changes": changes},
                headers={"Authorization": f"Convex {self._key}"},
                timeout=10,
            )
        except httpx.HTTPError as exc:
            log.warning("pushing environment variables to %s failed: %s", self.url, exc)
            return False
        if response.status_code >= 400:
            log.warning(
                "data plane %s refused environment variables: %s %s",
                self.url,
                response.status_code,
                response.text[:200],
            )
            return False
        return True

    def activity(self) -> ActivityReport | None:
        """How idle the data plane is (contract/activity.py); None if it does not answer."""
        try:
            response = httpx.get(
                f"{self.url}{ACTIVITY_PATH}",
                headers={"Authorization": f"Convex {self._key}"},
                timeout=5,
            )
            response.raise_for_status()
            return ActivityReport.from_json(response.json())
        except (httpx.HTTPError, ValueError, ActivityReportError) as exc:
            log.warning("activity of %s unknown: %s", self.url, exc)
            return None
