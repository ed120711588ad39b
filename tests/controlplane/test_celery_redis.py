"""With REDIS_URL set, tasks go through the real Redis broker to a real Celery worker."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.slow]

SEED = """
from datetime import timedelta
from django.utils import timezone
from controlplane.teams.models import Team
from controlplane.projects.models import Project
from controlplane.deployments.models import Deployment
from controlplane.provisioning.drivers import get_driver
team = Team.objects.create(name="t", slug="t")
project = Project.objects.create(team=team, name="p", slug="p")
past = timezone.now() - timedelta(seconds=1)
Deployment.objects.create(project=project, name="old-otter-111", type="dev", status="deleted",
    instance_secret="s", deleted_at=past, purge_after=past)
get_driver().data_dir("old-otter-111").mkdir(parents=True)
get_driver().shutdown()
"""
QUEUE = """
from django.conf import settings
from controlplane.provisioning.drivers import get_driver
assert not settings.CELERY_TASK_ALWAYS_EAGER and settings.CELERY_BROKER_URL.startswith("redis://")
from controlplane.deployments.tasks import purge_deleted_deployments
purge_deleted_deployments.delay()
"""


def test_tasks_run_on_a_worker_through_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "STRATA_DATA_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "STRATA_CELERY_QUEUE": f"strata-test-{uuid.uuid4().hex[:8]}",
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
    }

    def manage(*args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    manage("migrate", "--no-input")
    manage("shell", "-c", SEED)
    data_dir = tmp_path / "deployments" / "old-otter-111"
    assert data_dir.exists()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "controlplane",
            "worker",
            "-P",
            "solo",
            "-Q",
            env["STRATA_CELERY_QUEUE"],
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115
    )
    try:
        manage("shell", "-c", QUEUE)
        deadline = time.monotonic() + 90
        while data_dir.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not data_dir.exists(), (tmp_path / "worker.log").read_text()[-3000:]
        with sqlite3.connect(tmp_path / "controlplane.sqlite3") as db:
            purged = db.execute(
                "SELECT purged_at FROM strata_deployments_deployment WHERE name = 'old-otter-111'"
            ).fetchone()
        assert purged[0] is not None
    finally:
        worker.terminate()
        worker.wait(30)
