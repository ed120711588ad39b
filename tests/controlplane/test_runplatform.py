"""`manage.py runplatform` on embedded defaults (SQLite, no Redis, eager Celery), end to end:
sign up over HTTP, create a project, reach the deployment by port and by host through the
gateway, kill its process and see it restarted, stop the platform and see the process go,
crash the platform and see the process keep serving and be adopted by the next one."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not reached")


class Platform:
    """One `runplatform` process; `restart()` starts a new one on the same data."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runplatform", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200)
        return proc

    def restart(self) -> None:
        self.proc = self._start()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    port = free_port()
    unset = ("DATABASE_URL", "REDIS_URL", "STRATA_GATEWAY_PORT", "STRATA_CONTROL_PLANE_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {
        "STRATA_DATA_DIR": str(tmp_path),
        "STRATA_BASE_DOMAIN": "strata.test",
        # Only `--port`: every URL the platform hands out must follow it.
        "STRATA_DP_PORT_RANGE": "26000,26999",
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--no-input"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    running = Platform(env, port, tmp_path / "platform.log")
    try:
        yield running
    finally:
        running.stop()


def test_platform_end_to_end(platform: Platform) -> None:
    url, port, log = platform.url, platform.port, platform.log
    http = httpx.Client(base_url=f"{url}/v1", timeout=60)
    assert (
        http.post("/auth/sign_up", json={"email": "e2e@x.test", "password": PASSWORD}).status_code
        == 201
    )
    token = wait_for(lambda: re.search(r"^(\d+:\S+)$", log.read_text(errors="replace"), re.M))
    assert f"POST {url}/v1/auth/verify_email" in log.read_text(errors="replace")
    assert http.post("/auth/verify_email", json={"token": token.group(1)}).status_code == 200
    access = http.post("/auth/login", json={"email": "e2e@x.test", "password": PASSWORD}).json()
    http.headers["Authorization"] = f"Bearer {access['accessToken']}"
    team = http.post("/teams/create_team", json={"name": "E2E"}).json()
    created = http.post(
        f"/teams/{team['id']}/create_project", json={"projectName": "e2e", "deploymentType": "prod"}
    ).json()
    name, dep_url = created["deploymentName"], created["deploymentUrl"]
    details = http.get(f"/deployments/{name}").json()
    assert details["status"] == "running"
    assert details["hostUrl"] == f"http://{name}.strata.test:{port}"
    assert httpx.get(f"{dep_url}/instance_name", timeout=5).text == name
    # The same deployment by host name, through the control plane's gateway port.
    routed = httpx.get(f"{url}/instance_name", headers={"Host": f"{name}.strata.test:{port}"})
    assert routed.status_code == 200 and routed.text == name
    # A sync message over Daphne's default 1 MiB passes the gateway: the call is answered (it
    # fails, the deployment has no code yet) on a socket that stays up.
    with (
        socket.create_connection(("127.0.0.1", port)) as sock,
        ws_connect(f"ws://{name}.strata.test:{port}/api/1.48.0/sync", sock=sock) as ws,
    ):
        ws.send(
            json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
        )
        big = {
            "type": "Mutation",
            "requestId": 1,
            "udfPath": "none:here",
            "args": [{"b": "x" * (2 << 20)}],
        }
        ws.send(json.dumps(big))
        while (reply := json.loads(ws.recv(timeout=60)))["type"] != "MutationResponse":
            pass
        assert reply["requestId"] == 1 and reply["success"] is False

    dep_port = int(dep_url.rsplit(":", 1)[1])
    assert 26000 <= dep_port <= 26999  # STRATA_DP_PORT_RANGE is honoured
    pattern = f"dataplane serve .*--port {dep_port}"
    found = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True)
    pid = int(found.stdout.split()[0])
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: httpx.get(f"{dep_url}/instance_name", timeout=2).text == name)

    platform.stop(signal.SIGTERM)  # graceful: the deployment is stopped with it
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{dep_url}/healthz", timeout=2)
    platform.restart()  # the supervisor brings running deployments back, same URL
    wait_for(lambda: httpx.get(f"{dep_url}/instance_name", timeout=2).text == name)
    found = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True)
    pid = int(found.stdout.split()[0])
    platform.stop(signal.SIGKILL)  # a crashed control plane leaves its deployments serving
    assert httpx.get(f"{dep_url}/instance_name", timeout=5).text == name
    platform.restart()  # ... and the next one adopts the same process
    wait_for(lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200)
    again = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True)
    assert [int(p) for p in again.stdout.split()] == [pid]
    os.kill(pid, signal.SIGKILL)  # supervised again: restarted
    wait_for(
        lambda: (
            subprocess.run(
                ["pgrep", "-f", "--", pattern], capture_output=True, text=True
            ).stdout.split()
            not in ([], [str(pid)])
        )
    )
    wait_for(lambda: httpx.get(f"{dep_url}/instance_name", timeout=2).text == name)
