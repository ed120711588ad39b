"""Control-plane fixtures: a real local driver on a temp dir, users signed up through the API."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from controlplane.provisioning.drivers import set_driver
from controlplane.provisioning.drivers.local import LocalDriver

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # throttling state must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def local_driver(tmp_path: Path) -> Iterator[LocalDriver]:
    driver = LocalDriver(tmp_path / "deployments", port_range=(24000, 24999))
    previous = set_driver(driver)
    try:
        yield driver
    finally:
        driver.shutdown()
        set_driver(previous)


@dataclass
class Caller:
    """An API client authenticated with one bearer token."""

    client: APIClient
    token: str
    email: str = ""

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/v1/{path}", params, HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.client.post(
            f"/v1/{path}",
            body if body is not None else {},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
        )


def linked_token(body: str, route: str) -> str:
    """The token of the console link to `route` that an email carries (what a click opens)."""
    link = re.search(rf"^(\S+)/#{re.escape(route)}\?token=(\S+)$", body, re.M)
    assert link is not None, body
    return unquote(link.group(2))


def sign_up_and_login(email: str) -> Caller:
    client = APIClient()
    mail.outbox.clear()
    r = client.post("/v1/auth/sign_up", {"email": email, "password": PASSWORD}, format="json")
    assert r.status_code == 201, r.content
    token = linked_token(mail.outbox[-1].body, "/verify")
    r = client.post("/v1/auth/verify_email", {"token": token}, format="json")
    assert r.status_code == 200, r.content
    r = client.post("/v1/auth/login", {"email": email, "password": PASSWORD}, format="json")
    assert r.status_code == 201, r.content
    return Caller(client=APIClient(), token=r.json()["accessToken"], email=email)


@pytest.fixture
def make_user(db: None) -> Any:
    return sign_up_and_login


@pytest.fixture
def team_owner(make_user: Any, local_driver: LocalDriver) -> tuple[Caller, int]:
    """A verified user who owns a fresh team: (caller, team id)."""
    caller = make_user("owner@alpha.test")
    r = caller.post("teams/create_team", {"name": "Alpha"})
    assert r.status_code == 201, r.content
    return caller, r.json()["id"]


@pytest.fixture
def create_project(
    team_owner: tuple[Caller, int], django_capture_on_commit_callbacks: Any
) -> Callable[[str, str], tuple[str, str]]:
    """Create a project through the API with its deployment provisioned (on-commit work run
    now): returns (deployment name, deployment URL)."""

    def create(project_name: str, deployment_type: str) -> tuple[str, str]:
        caller, team_id = team_owner
        with django_capture_on_commit_callbacks(execute=True):
            created = caller.post(
                f"teams/{team_id}/create_project",
                {"projectName": project_name, "deploymentType": deployment_type},
            ).json()
        return created["deploymentName"], created["deploymentUrl"]

    return create


def kill_and_await_restart(driver: LocalDriver, name: str, timeout: float = 60.0) -> None:
    """SIGKILL a deployment's process; return once the supervisor restarted it, healthy."""
    pid = driver.state(name).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while driver.state(name).restarts < 1:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} was not restarted within {timeout}s")
        time.sleep(0.1)
    driver.wait_healthy(name)
