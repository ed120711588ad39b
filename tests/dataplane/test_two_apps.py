"""Two DeploymentApps in one process, served over HTTP and WebSocket to the official CLI and
npm clients: each deployment keeps its own code, keys and data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from contract.keys import mint_key
from tests.compat.conftest import REPO, ConvexCli, Server, free_port
from tests.sync.live import APP as SYNC_APP

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "js" / "two_apps.mjs"


def _wait_ready(proc: subprocess.Popen[bytes], url: str, name: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/instance_name", timeout=2).text == name:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server did not start:\n{log.read_text()}")


def _push_app(server: Server, work: Path) -> None:
    app_dir = work / server.name / "syncapp"
    shutil.copytree(SYNC_APP, app_dir)
    (app_dir / "package.json").write_text(
        json.dumps({"name": "syncapp", "private": True, "dependencies": {"convex": "1.48.0"}})
    )
    (app_dir / "node_modules").symlink_to(REPO / "node_modules")
    (work / server.name / "home").mkdir(exist_ok=True)
    ConvexCli(server, app_dir).deploy()


def test_one_process_serves_two_deployments_apart(tmp_path: Path) -> None:
    names = ["alpha-app", "beta-app"]
    ports = [free_port(), free_port()]
    log = tmp_path / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.dataplane.two_apps_server",
                str(tmp_path / "data"),
                *(f"{n}:{p}" for n, p in zip(names, ports, strict=True)),
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        servers = []
        for name, port in zip(names, ports, strict=True):
            url = f"http://127.0.0.1:{port}"
            _wait_ready(proc, url, name, log)
            key = mint_key(name, f"secret-{name}")
            servers.append(Server(url, key, name, tmp_path / "data" / name, proc, log))
        alpha, beta = servers

        # A key is valid only for the deployment it was minted for.
        body = {"path": "messages:count", "args": {}, "format": "json"}
        wrong = httpx.post(
            f"{alpha.url}/api/query_ts", headers={"Authorization": f"Convex {beta.admin_key}"}
        )
        assert wrong.status_code in (200, 401)  # query_ts is public; now a key-checked call:
        denied = httpx.post(
            f"{alpha.url}/api/check_admin_key",
            headers={"Authorization": f"Convex {beta.admin_key}"},
        )
        assert denied.status_code == 401
        for server in servers:
            _push_app(server, tmp_path / "work")

        run = subprocess.run(
            ["node", str(SCRIPT), alpha.url, beta.url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
        )
        lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
        assert run.returncode == 0 and lines[-1] == {"ok": True}, (
            f"{run.stdout}\n{run.stderr[-3000:]}\n{log.read_text()[-3000:]}"
        )
        assert lines[0] == {"liveA": ["a1", "a2"], "liveB": ["b1"]}
        assert lines[1] == {"httpA": ["a1", "a2"], "httpB": ["b1"]}
        counts = [httpx.post(f"{s.url}/api/query", json=body).json()["value"] for s in servers]
        assert counts == [2, 1]
        # Each deployment's files are its own: separate SQLite databases on disk.
        assert (tmp_path / "data" / "alpha-app" / "db.sqlite3").exists()
        assert (tmp_path / "data" / "beta-app" / "db.sqlite3").exists()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
