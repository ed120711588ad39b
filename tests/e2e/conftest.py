"""End-to-end fixtures: a built console, a real control plane (daphne, temp SQLite, local
driver spawning real data-plane processes) and Debian's Chromium driven by playwright-core."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
CHROMIUM = Path(os.environ.get("STRATA_CHROMIUM", "/usr/bin/chromium"))
SCRIPT = Path(__file__).with_name("console_flow.mjs")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def console_dist() -> Path:
    """frontend/dist, built now if it is missing (npm ci + vite build, as scripts/install does)."""
    if shutil.which("node") is None or not CHROMIUM.exists():
        pytest.fail(
            f"browser tests need node and Debian's Chromium at {CHROMIUM}: "
            "apt-get update && apt-get install -y --no-install-recommends chromium"
        )
    dist = FRONTEND / "dist"
    if not (dist / "index.html").is_file():
        if not (FRONTEND / "node_modules" / "vite").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
        subprocess.run(["npm", "run", "build"], cwd=FRONTEND, check=True, timeout=300)
    return dist


@dataclass
class ControlPlane:
    url: str
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def control_plane_env() -> dict[str, str]:
    """Extra environment for the control plane; a test module overrides it (e.g. billing)."""
    return {}


@pytest.fixture
def control_plane(
    tmp_path: Path, console_dist: Path, control_plane_env: dict[str, str]
) -> Iterator[ControlPlane]:
    """A control-plane server on a free port; emails go to its log (console backend)."""
    port = free_port()
    dp_base = 25000 + (port % 400) * 10  # a window apart from other suites; busy ports are skipped
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "STRATA_DRIVER")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="controlplane.settings",
        STRATA_DATA_DIR=str(tmp_path / "cp"),
        STRATA_DEPLOYMENTS_DIR=str(tmp_path / "deployments"),
        STRATA_DP_PORT_RANGE=f"{dp_base},{dp_base + 9}",
        STRATA_CONTROL_PLANE_URL=f"http://127.0.0.1:{port}",
        STRATA_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        STRATA_CONSOLE_DIST=str(console_dist),
        STRATA_ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.update(control_plane_env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
    )
    log_path = tmp_path / "controlplane.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "controlplane.asgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    cp = ControlPlane(f"http://127.0.0.1:{port}", tmp_path, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"control plane exited:\n{cp.log()}")
            try:
                if httpx.get(f"{cp.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"control plane did not start:\n{cp.log()}")
            time.sleep(0.2)
        yield cp
    finally:
        # SIGTERM lets the local driver stop the data-plane processes it spawned.
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)


def run_browser(scenario: str, cp: ControlPlane, tmp_path: Path, **extra: str) -> dict[str, Any]:
    """Run one scenario of console_flow.mjs in headless Chromium; returns its JSON result."""
    profile = tmp_path / f"chromium-{scenario}"
    env = dict(
        os.environ,
        STRATA_E2E_BASE=cp.url,
        STRATA_E2E_MAIL_LOG=str(cp.log_path),
        STRATA_E2E_PROFILE=str(profile),
        STRATA_E2E_SCENARIO=scenario,
        STRATA_E2E_SHOTS=str(tmp_path / "shots"),
        STRATA_FRONTEND_DIR=str(FRONTEND),
        STRATA_CHROMIUM=str(CHROMIUM),
        **extra,
    )
    proc = subprocess.run(
        ["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"browser scenario {scenario!r} failed (exit {proc.returncode})\n"
            f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}\n"
            f"--- control plane log (tail)\n{cp.log()[-4000:]}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stdout
    result = dict(json.loads(lines[-1].removeprefix("RESULT ")))
    # Every page the scenario photographed was checked by axe-core: no serious violation.
    assert result["axeChecked"] >= 1
    assert result["axe"] == [], json.dumps(result["axe"], indent=2)
    return result
