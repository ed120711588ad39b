"""A platform that suspends idle deployments, and a tenant on it: shared by the scale-to-zero
tests (test_suspend.py) and the wake-time benchmark (bench/suspend.py)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from tests.apps.cli_bundle import APPS
from tests.controlplane.test_runplatform import PASSWORD, REPO_ROOT, Platform, free_port, wait_for
from tests.deploy.conftest import push_request


@contextlib.contextmanager
def suspending_platform(data_dir: Path, idle_s: int) -> Iterator[Platform]:
    """`runplatform` with host routing that suspends deployments idle for `idle_s`."""
    port = free_port()
    unset = ("DATABASE_URL", "REDIS_URL", "STRATA_GATEWAY_PORT", "STRATA_CONTROL_PLANE_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {
        "STRATA_DATA_DIR": str(data_dir),
        "STRATA_BASE_DOMAIN": "strata.test",
        "STRATA_ROUTING": "host",
        "STRATA_SUSPEND_AFTER_S": str(idle_s),
        "STRATA_SUSPEND_CHECK_S": "1",
        "STRATA_DP_PORT_RANGE": "27000,27999",
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    running = Platform(env, port, data_dir / "platform.log")
    try:
        yield running
    finally:
        running.stop()


def scheduler_app(into: Path) -> Path:
    """tests/apps/scheduler_app without its every-second cron (which would keep it awake)."""
    target = into / "app" / "convex"
    shutil.copytree(APPS / "scheduler_app" / "convex", target)
    (target / "crons.ts").unlink()
    (target.parent / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    return target


class Tenant:
    """One signed-up user with a team, a project and its deployment, reached by host."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.api = httpx.Client(base_url=f"{platform.url}/v1", timeout=60)
        email = f"{uuid.uuid4().hex[:8]}@x.test"
        signed = self.api.post("/auth/sign_up", json={"email": email, "password": PASSWORD})
        assert signed.status_code == 201
        log = platform.log
        token = wait_for(lambda: re.search(r"^(\d+:\S+)$", log.read_text(errors="replace"), re.M))
        assert self.api.post("/auth/verify_email", json={"token": token.group(1)}).is_success
        login = self.api.post("/auth/login", json={"email": email, "password": PASSWORD}).json()
        self.api.headers["Authorization"] = f"Bearer {login['accessToken']}"
        self.team = self.api.post("/teams/create_team", json={"name": "Z"}).json()["id"]
        created = self.api.post(
            f"/teams/{self.team}/create_project",
            json={"projectName": "zero", "deploymentType": "prod"},
        ).json()
        self.name: str = created["deploymentName"]
        self.host = f"{self.name}.strata.test:{platform.port}"
        key = self.api.post(f"/deployments/{self.name}/create_deploy_key", json={"name": "t"})
        self.key: str = key.json()["deployKey"]
        self.http = httpx.Client(
            base_url=platform.url,
            headers={"Host": self.host, "Authorization": f"Convex {self.key}"},
            timeout=60,
        )

    def deployment(self) -> dict[str, Any]:
        details: dict[str, Any] = self.api.get(f"/deployments/{self.name}").json()
        return details

    def events(self, action: str) -> list[dict[str, Any]]:
        page = self.api.get(f"/teams/{self.team}/list_audit_log_events?limit=100").json()
        return [e for e in page["items"] if e["action"] == action]

    def processes(self) -> list[int]:
        """Pids of this deployment's data plane (found by the name in its environment)."""
        found = subprocess.run(["pgrep", "-f", "dataplane serve"], capture_output=True, text=True)
        pids = []
        for pid in found.stdout.split():
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if f"STRATA_DP_NAME={self.name}\0".encode() in environ:
                pids.append(int(pid))
        return pids

    def push(self, convex_dir: Path) -> None:
        start = self.http.post("/api/deploy2/start_push", json=push_request(convex_dir))
        assert start.status_code == 200, start.text
        change = start.json()["schemaChange"]
        waited = self.http.post(
            "/api/deploy2/wait_for_schema", json={"schemaChange": change, "timeoutMs": 60_000}
        )
        assert waited.status_code == 200, waited.text
        done = self.http.post(
            "/api/deploy2/finish_push", json={"startPush": start.json(), "dryRun": False}
        )
        assert done.status_code == 200, done.text

    def call(self, kind: str, path: str, **args: Any) -> Any:
        response = self.http.post(f"/api/{kind}", json={"path": path, "args": args})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "success", body
        return body["value"]

    def wait_suspended(self, timeout: float = 60.0) -> dict[str, Any]:
        details = wait_for(lambda: (d := self.deployment())["status"] == "suspended" and d, timeout)
        assert self.processes() == []
        assert details["suspendedAt"] is not None
        return dict(details)

    @contextlib.contextmanager
    def socket(self) -> Iterator[ClientConnection]:
        """A sync WebSocket to the deployment through the gateway, Connect sent."""
        sock = socket.create_connection(("127.0.0.1", self.platform.port))
        with ws_connect(f"ws://{self.host}/api/1.48.0/sync", sock=sock) as ws:
            connect = {"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}
            ws.send(json.dumps(connect))
            yield ws


def subscribe_notes(ws: ClientConnection, version: int = 0) -> None:
    add = {"type": "Add", "queryId": version, "udfPath": "jobs:notes", "args": [{}]}
    modify = {
        "type": "ModifyQuerySet",
        "baseVersion": version,
        "newVersion": version + 1,
        "modifications": [add],
    }
    ws.send(json.dumps(modify))


def notes_until(ws: ClientConnection, wanted: set[str]) -> list[str]:
    """Read Transitions until the notes query's value contains every note in `wanted`."""
    while True:
        frame = json.loads(ws.recv(timeout=60))
        if frame["type"] != "Transition":
            continue
        for mod in frame["modifications"]:
            if mod.get("type") == "QueryUpdated" and wanted <= set(mod["value"]):
                return list(mod["value"])
