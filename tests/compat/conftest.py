"""Fixtures for compatibility tests: a real data-plane server process and the official CLI.

`dataplane_server` starts `python -m dataplane serve` on a free port with a temp data dir and
yields a `Server` (unpacks as `(url, admin_key)`). `convex_cli` runs the npm `convex` CLI
against it in a temp copy of an app from tests/apps, with every outside network call disabled.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from controlplane.provisioning.local_instance import LocalInstance

REPO = Path(__file__).resolve().parents[2]
APPS = REPO / "tests" / "apps"
CLI = REPO / "node_modules" / "convex" / "bin" / "main.js"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running deployment process."""

    url: str
    admin_key: str
    name: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        return iter((self.url, self.admin_key))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(
    data_dir: Path,
    *,
    name: str = "test-deployment",
    database_url: str = "",
    port: int = 0,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Start one deployment process and wait until it answers /instance_name.

    `extra_env`: more STRATA_DP_* settings for this process."""
    port = port or free_port()
    instance = LocalInstance(name=name, data_dir=data_dir)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_DP_")}
    env = {
        **inherited,
        **instance.process_env(port=port, database_url=database_url),
        "PYTHONUNBUFFERED": "1",
        "STRATA_DP_ISOLATE_POOL": os.environ.get("STRATA_DP_ISOLATE_POOL", "2"),
        **(extra_env or {}),
    }
    log_path = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "dataplane", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(
        f"http://127.0.0.1:{port}", instance.admin_key(), name, data_dir, process, log_path, env
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"data-plane server exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/instance_name", timeout=2).text == name:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"data-plane server did not start in {START_TIMEOUT_S}s:\n{server.log()}")


@pytest.fixture
def dataplane_server(tmp_path: Path) -> Iterator[Server]:
    """A real deployment server (SQLite) on a free port; stopped after the test."""
    server = start_server(tmp_path / "deployment")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dataplane_server_pg(tmp_path: Path, postgres_url: str) -> Iterator[Server]:
    """The same, storing in a fresh real PostgreSQL database."""
    server = start_server(tmp_path / "deployment", database_url=postgres_url)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class ConvexCli:
    """The official `convex` CLI bound to one server and one app directory."""

    server: Server
    app_dir: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "STRATA_DP_"))}
        env.update(
            {
                "CONVEX_SELF_HOSTED_URL": self.server.url,
                "CONVEX_SELF_HOSTED_ADMIN_KEY": self.server.admin_key,
                # No telemetry, version checks or provisioning calls leave this machine.
                "CI": "1",
                "CONVEX_VERSION_API_ORIGIN": "http://127.0.0.1:9",
                "CONVEX_PROVISION_HOST": "http://127.0.0.1:9",
                "NO_COLOR": "1",
                "FORCE_COLOR": "0",
                "HOME": str(self.app_dir.parent / "home"),
            }
        )
        return env

    def run(
        self, *args: str, input: str | None = None, timeout: float = 180.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["node", str(CLI), *args],
            cwd=self.app_dir,
            env=self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"convex {' '.join(args)} failed ({proc.returncode}):\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n"
                f"server log:\n{self.server.log()[-4000:]}"
            )
        return proc

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["node", str(CLI), *args],
            cwd=self.app_dir,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def deploy(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("deploy", "--yes", "--typecheck", "disable", *extra, check=check)


def copy_app(app: str, dest: Path) -> Path:
    """A temp copy of tests/apps/<app> with a package.json and node_modules the CLI accepts."""
    target = dest / app
    shutil.copytree(APPS / app, target)
    (target / "package.json").write_text(
        json.dumps({"name": app, "private": True, "dependencies": {"convex": "1.48.0"}})
    )
    (target / "node_modules").symlink_to(REPO / "node_modules")
    (dest / "home").mkdir(exist_ok=True)
    return target


@pytest.fixture
def convex_cli(dataplane_server: Server, tmp_path: Path) -> ConvexCli:
    """The CLI pointed at `dataplane_server`, in a copy of tests/apps/deploy_app."""
    return ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "work"))
