"""`python manage.py serve_deployment` end to end: printed URL and key, CLI deploy, restart."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import REPO, ConvexCli, Server, copy_app, free_port, start_server

pytestmark = pytest.mark.slow


def _serve(
    data_dir: Path, port: int, database_url: str = ""
) -> tuple[subprocess.Popen[str], str, str]:
    """Start the standalone command; returns (process, printed URL, printed admin key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_DP_")}
    extra = ["--database-url", database_url] if database_url else []
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "serve_deployment",
            "--name",
            "standalone",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        cwd=REPO,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    url = key = ""
    for line in proc.stdout:
        if m := re.match(r"Deployment URL:\s+(\S+)", line):
            url = m.group(1)
        if m := re.match(r"Admin key:\s+(\S+)", line):
            key = m.group(1)
        if url and key:
            break
    return proc, url, key


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/instance_name", timeout=2).text == "standalone":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def test_serve_deployment_prints_url_and_key_and_survives_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "standalone"
    port = free_port()
    proc, url, key = _serve(data_dir, port)
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert key.startswith("standalone|")
        _wait_up(url)
        check = httpx.get(f"{url}/api/check_admin_key", headers={"Authorization": f"Convex {key}"})
        assert check.json()["success"] is True
        server = Server(url, key, "standalone", data_dir, proc, data_dir / "none.log")  # type: ignore[arg-type]
        cli = ConvexCli(server, copy_app("deploy_app", tmp_path / "work"))
        cli.deploy()
        cli.run("env", "set", "GREETING", "persisted")
        cli.run("run", "tasks:add", '{"owner": "ivy", "text": "survive"}')
    finally:
        _stop(proc)

    proc, url2, key2 = _serve(data_dir, port)
    try:
        assert (url2, key2) == (url, key)
        _wait_up(url)
        r = httpx.post(f"{url}/api/query", json={"path": "tasks:open", "args": {"owner": "ivy"}})
        assert r.json() == {"status": "success", "value": ["survive"]}
        r = httpx.post(f"{url}/api/query", json={"path": "tasks:greeting", "args": {}})
        assert r.json()["value"] == "persisted"
        hashes = httpx.post(
            f"{url}/api/get_config_hashes", json={"version": "1.48.0", "adminKey": key}
        ).json()
        assert "tasks.js" in {h["path"] for h in hashes["moduleHashes"]}
        assert hashes["config"]["functions"] == "convex/"
    finally:
        _stop(proc)


@pytest.mark.postgres
def test_cli_deploy_to_a_postgres_deployment(tmp_path: Path, postgres_url: str) -> None:
    server = start_server(tmp_path / "pg", database_url=postgres_url)
    try:
        cli = ConvexCli(server, copy_app("deploy_app", tmp_path / "work"))
        cli.deploy()
        cli.run("run", "tasks:add", '{"owner": "pg", "text": "in postgres"}')
        r = httpx.post(
            f"{server.url}/api/query", json={"path": "tasks:open", "args": {"owner": "pg"}}
        )
        assert r.json()["value"] == ["in postgres"]
        second = cli.deploy()  # unchanged modules are sent by hash only
        assert second.returncode == 0
    finally:
        server.stop()


@pytest.mark.mysql
def test_serve_deployment_on_mysql_keeps_data_across_restarts(
    tmp_path: Path, mysql_url: str
) -> None:
    data_dir = tmp_path / "standalone"
    port = free_port()
    proc, url, key = _serve(data_dir, port, mysql_url)
    try:
        _wait_up(url)
        server = Server(url, key, "standalone", data_dir, proc, data_dir / "none.log")  # type: ignore[arg-type]
        cli = ConvexCli(server, copy_app("deploy_app", tmp_path / "work"))
        cli.deploy()
        cli.run("run", "tasks:add", '{"owner": "my", "text": "in mysql"}')
    finally:
        _stop(proc)
    # Nothing of the deployment's data is in its data directory: it all lives in MySQL.
    assert not list(data_dir.rglob("*.sqlite3"))
    proc, url, key = _serve(data_dir, port, mysql_url)
    try:
        _wait_up(url)
        r = httpx.post(f"{url}/api/query", json={"path": "tasks:open", "args": {"owner": "my"}})
        assert r.json() == {"status": "success", "value": ["in mysql"]}
    finally:
        _stop(proc)
