"""With REDIS_URL set, a backup is taken by a real Celery worker through the Redis broker: the
API answers at once with a pending backup, which the worker completes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.compat.conftest import start_server

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.slow]

SEED = """
from controlplane.teams.models import Team
from controlplane.projects.models import Project
from controlplane.deployments.models import Deployment
from controlplane.backups.actions import create_backup
from controlplane.audit.actions import SYSTEM
team = Team.objects.create(name="t", slug="t")
project = Project.objects.create(team=team, name="p", slug="p")
deployment = Deployment.objects.create(project=project, name="{name}", type="dev",
    status="running", port={port}, instance_secret="{secret}")
backup = create_backup(SYSTEM, deployment)
print("BACKUP", backup.pk, backup.status)
"""


def test_a_worker_takes_the_backup(tmp_path: Path) -> None:
    server = start_server(tmp_path / "dp", name="busy-beaver-101")
    try:
        admin = {"Authorization": f"Convex {server.admin_key}"}
        r = httpx.post(
            f"{server.url}/api/function",
            json={
                "path": "_system/frontend/addDocument",
                "args": {"table": "things", "documents": [{"n": 1}, {"n": 2}]},
                "format": "json",
            },
            headers=admin,
            timeout=60,
        )
        assert r.json()["status"] == "success", r.text
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
            "STRATA_DATA_DIR": str(tmp_path / "cp"),
            "STRATA_DP_HOST": "127.0.0.1",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "STRATA_CELERY_QUEUE": f"strata-test-{uuid.uuid4().hex[:8]}",
            "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        }

        def manage(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=REPO_ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
            return done.stdout

        manage("migrate", "--no-input")
        port = server.url.rsplit(":", 1)[1]
        secret = server.env["STRATA_DP_INSTANCE_SECRET"]
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "controlplane", "worker", "-P", "solo"),
                *("-Q", env["STRATA_CELERY_QUEUE"], "--without-gossip", "--without-mingle"),
                *("--without-heartbeat", "-l", "INFO"),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115
        )
        try:
            out = manage("shell", "-c", SEED.format(name=server.name, port=port, secret=secret))
            backup_id, status = out.split("BACKUP ")[1].split()
            assert status == "pending"  # queued for the worker, not run in this process
            deadline = time.monotonic() + 120
            row: tuple[str, str, int] | None = None
            while time.monotonic() < deadline:
                with sqlite3.connect(tmp_path / "cp" / "controlplane.sqlite3") as db:
                    row = db.execute(
                        "SELECT status, storage_key, size FROM strata_backups_backup WHERE id = ?",
                        (int(backup_id),),
                    ).fetchone()
                if row and row[0] != "pending":
                    break
                time.sleep(0.2)
            log = (tmp_path / "worker.log").read_text()[-3000:]
            assert row is not None and row[0] == "completed", log
            stored = tmp_path / "cp" / "backups" / row[1]
            assert stored.stat().st_size == row[2] > 0
        finally:
            worker.terminate()
            worker.wait(30)
    finally:
        server.stop()
