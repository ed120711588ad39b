"""A live control plane for end-to-end tests: migrate a fresh PostgreSQL database, serve it with
daphne on a free port, sign up a user and create a team through the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.conftest import POSTGRES_ADMIN_URL

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ControlPlane:
    url: str
    token: str
    team_id: int
    database_url: str
    http: httpx.Client = field(repr=False)

    def get(self, path: str) -> Any:
        return self.http.get(f"/v1/{path}")

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.http.post(f"/v1/{path}", json=body or {})


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"control plane exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"control plane did not become healthy: {log.read_text()[-3000:]}")


@contextmanager
def running_control_plane(
    work: Path, extra_env: dict[str, str] | None = None, server_module: str = "daphne"
) -> Iterator[ControlPlane]:
    """`server_module` is run as `python -m <it> <daphne args>` (a wrapper may set things up)."""
    db = f"strata_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    database_url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{db}"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "DATABASE_URL": database_url,
        "STRATA_DATA_DIR": str(work / "data"),
        "STRATA_REQUIRE_EMAIL_VERIFICATION": "false",
        "STRATA_DRIVER": "local",
        "STRATA_DP_PORT_RANGE": "26000,26999",
        "STRATA_API_RATE_LIMIT": "100000",
        "STRATA_CONTROL_PLANE_URL": f"http://127.0.0.1:{port}",
        "STRATA_GATEWAY_PORT": str(port),
        "REDIS_URL": "",
        **(extra_env or {}),
    }
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
            timeout=240,
        )
        log = work / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    server_module,
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "controlplane.asgi:application",
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, proc, log)
        anon = httpx.Client(base_url=url, timeout=60)
        email = "e2e-owner@strata.test"
        r = anon.post("/v1/auth/sign_up", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = anon.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        token = r.json()["accessToken"]
        http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        r = http.post("/v1/teams/create_team", json={"name": "E2E Team"})
        assert r.status_code == 201, r.text
        yield ControlPlane(url, token, r.json()["id"], database_url, http)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
