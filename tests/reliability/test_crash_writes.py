"""Acknowledged writes survive SIGKILL of the data plane and of the control plane.

A control plane (the local driver in its own process) runs one deployment, SQLite,
Postgres or MySQL. Clients write a few hundred uniquely named documents, through the HTTP API
and with the official Python client over the sync WebSocket, while the data plane is SIGKILLed (the
supervisor restarts it), the control plane is SIGKILLed (the data plane keeps serving) and
restarted (it adopts the data plane), and the data plane is SIGKILLed once more. Afterwards
every acknowledged write is there exactly once; a write whose answer was lost is there at
most once; nothing else is.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from convex import ConvexClient

from contract.keys import mint_key, new_instance_secret
from contract.spec import DeploymentSpec
from controlplane.provisioning.drivers.local import LocalDriver
from tests.compat.conftest import ConvexCli, Server
from tests.conftest import MYSQL_ADMIN_URL, POSTGRES_ADMIN_URL
from tests.reliability.control_plane import driver_for
from tests.sync.live import APP, REPO

pytestmark = pytest.mark.slow

TARGET = 300  # acknowledged writes
WAIT_S = 90.0


def wait_for(what: str, predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError):
            if predicate():
                return
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout:.0f}s: {what}")


@dataclass
class ControlPlane:
    root: Path
    spec: dict[str, Any]
    admin_url: str
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, Any]:
        argv = [sys.executable, "-m", "tests.reliability.control_plane", str(self.root)]
        argv += [json.dumps(self.spec), self.admin_url]
        self.process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError("the control plane exited before its deployment was up")
        state: dict[str, Any] = json.loads(line)
        return state

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)


@dataclass
class Writer:
    """Writes w0000, w0001, ... until TARGET are acknowledged; never retries a write."""

    url: str
    acked: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            i = 0
            while len(self.acked) < TARGET and not self.stop.is_set():
                body = f"w{i:05d}"
                i += 1
                try:
                    response = client.post(
                        f"{self.url}/api/mutation",
                        json={
                            "path": "messages:send",
                            "args": {"channel": "crash", "body": body},
                            "format": "json",
                        },
                    )
                    ok = response.status_code == 200 and response.json()["status"] == "success"
                except (httpx.HTTPError, ValueError):
                    ok = False
                if ok:
                    self.acked.append(body)
                else:
                    self.unknown.append(body)
                    time.sleep(0.05)


@dataclass
class SyncWriter:
    """The official Python client writes s0000, s0001, ... over the sync WebSocket; it
    reconnects and resends by itself, so each call is expected to land exactly once."""

    url: str
    target: int
    acked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        client = ConvexClient(self.url)
        i = 0
        while len(self.acked) < self.target and not self.stop.is_set():
            body = f"s{i:05d}"
            i += 1
            try:
                client.mutation("messages:send", {"channel": "crash-ws", "body": body})
            except Exception:
                self.failed.append(body)
                time.sleep(0.05)
            else:
                self.acked.append(body)


def _pid_of(data_dir: Path) -> int:
    pid: int = json.loads((data_dir / "supervisor.json").read_text())["pid"]
    return pid


def _serves(url: str, name: str) -> bool:
    return httpx.get(f"{url}/instance_name", timeout=2).text == name


@pytest.fixture(params=["sqlite", "postgres", pytest.param("mysql", marks=pytest.mark.mysql)])
def storage(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def control_plane(tmp_path: Path, storage: str) -> Iterator[ControlPlane]:
    root = tmp_path / "deployments"
    probe = LocalDriver(root, port_range=(27000, 27999))
    port = probe.allocate_port(set())
    probe.shutdown()
    name = f"crash-{storage[:2]}-{uuid.uuid4().hex[:8]}"
    spec = {
        "name": name,
        "instance_secret": new_instance_secret(),
        "port": port,
        "storage": storage,
    }
    admin_url = {"postgres": POSTGRES_ADMIN_URL, "mysql": MYSQL_ADMIN_URL}.get(storage, "")
    plane = ControlPlane(root, spec, admin_url)
    try:
        yield plane
    finally:
        plane.kill()
        # The data plane outlives its control plane by design: stop it and drop its data.
        cleanup = driver_for(root, plane.admin_url)
        cleanup.start(DeploymentSpec(**spec), wait=0)
        cleanup.destroy(DeploymentSpec(**spec))
        cleanup.shutdown()


def test_no_acknowledged_write_is_lost_or_duplicated(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    spec = control_plane.spec
    name = spec["name"]
    state = control_plane.start()
    url = state["url"]
    data_dir = control_plane.root / name
    admin_key = mint_key(name, spec["instance_secret"])
    target = Server(
        url, admin_key, name, data_dir, control_plane.process, data_dir / "logs" / "dataplane.log"
    )  # type: ignore[arg-type]
    app_dir = tmp_path / "work" / "syncapp"
    shutil.copytree(APP, app_dir)
    (app_dir / "package.json").write_text(
        json.dumps({"name": "syncapp", "private": True, "dependencies": {"convex": "1.48.0"}})
    )
    (app_dir / "node_modules").symlink_to(REPO / "node_modules")
    (tmp_path / "work" / "home").mkdir()
    ConvexCli(target, app_dir).deploy()

    writer, sync_writer = Writer(url), SyncWriter(url, TARGET // 2)
    thread = threading.Thread(target=writer.run, daemon=True)
    sync_thread = threading.Thread(target=sync_writer.run, daemon=True)
    thread.start()
    sync_thread.start()
    try:
        wait_for("60 writes", lambda: len(writer.acked) >= 60)
        first = _pid_of(data_dir)
        os.kill(first, signal.SIGKILL)  # the data plane crashes; its supervisor restarts it
        wait_for("a restarted data plane", lambda: _pid_of(data_dir) != first)
        wait_for("writes after the restart", lambda: len(writer.acked) >= 120)

        control_plane.kill()  # the control plane crashes; the data plane keeps serving
        serving = _pid_of(data_dir)
        acked = len(writer.acked)
        wait_for("writes with no control plane", lambda: len(writer.acked) >= acked + 60)

        again = control_plane.start()  # the next control plane adopts it
        assert again["pid"] == serving and again["restarts"] == 0
        wait_for("220 writes", lambda: len(writer.acked) >= 220)
        os.kill(serving, signal.SIGKILL)  # ... and supervises it
        wait_for(
            "a data plane restarted by the new control plane", lambda: _pid_of(data_dir) != serving
        )
        wait_for("all writes", lambda: len(writer.acked) >= TARGET)
        wait_for("all sync writes", lambda: len(sync_writer.acked) >= sync_writer.target)
    finally:
        writer.stop.set()
        sync_writer.stop.set()
        thread.join(30)
        sync_thread.join(30)

    wait_for("the deployment", lambda: _serves(url, name))

    def bodies(channel: str) -> Counter[str]:
        rows = httpx.post(
            f"{url}/api/query",
            json={"path": "messages:list", "args": {"channel": channel}, "format": "json"},
            timeout=30,
        ).json()["value"]
        return Counter(row["body"] for row in rows)

    for seen, acked, unknown in (
        (bodies("crash"), writer.acked, writer.unknown),
        (bodies("crash-ws"), sync_writer.acked, sync_writer.failed),
    ):
        lost = [body for body in acked if seen[body] == 0]
        duplicated = [body for body, n in seen.items() if n > 1]
        stray = set(seen) - set(acked) - set(unknown)
        assert (lost, duplicated, sorted(stray)) == ([], [], [])
    assert len(writer.acked) >= TARGET and len(sync_writer.acked) >= sync_writer.target
