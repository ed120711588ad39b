"""The deployment page's Backups section in Chromium, against real data planes: back up, download
the ZIP, restore into a second deployment of the team and into the same one (target picked in
the confirm dialog), and schedule backups."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import httpx
import pytest

from .conftest import REPO, ControlPlane, run_browser
from .test_console_tabs import app_copy

pytestmark = pytest.mark.slow


def test_back_up_and_restore_into_another_deployment(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    app = app_copy(tmp_path / "work")
    r = run_browser(
        "backups", control_plane, tmp_path, STRATA_E2E_APP_DIR=str(app), STRATA_REPO_DIR=str(REPO)
    )
    (tmp_path / "result.json").write_text(json.dumps(r, indent=2))  # kept for debugging
    assert "manual" in r["backupRow"] and "completed" in r["backupRow"]
    with zipfile.ZipFile(r["zipPath"]) as z:
        tasks = z.read("tasks/documents.jsonl").decode()
    assert "saved in the backup" in tasks and "added after the backup" not in tasks
    assert r["downloadName"].endswith(".zip")
    assert r["intoCopy"]["picked"] == r["copy"]
    assert r["intoSelf"]["picked"] == r["deployment"]["name"]
    assert "saved in the backup" in r["tasksAfterRestore"]
    assert "added after the backup" not in r["tasksAfterRestore"]
    assert r["phoneOverflow"] <= 0, r["phoneOverflow"]
    assert r["intervalText"].startswith("Every 12 h, keeping 3")
    assert r["scheduleText"].startswith('On cron "0 3 * * *" (UTC), keeping 3')

    # The second deployment holds the backup's tasks: read with a deploy key made through /v1.
    api = httpx.Client(
        base_url=f"{control_plane.url}/v1/",
        headers={"Authorization": f"Bearer {r['token']}"},
        timeout=60,
    )
    copy = api.get(f"deployments/{r['copy']}").json()
    key = api.post(f"deployments/{r['copy']}/create_deploy_key", json={"name": "check"}).json()
    page = httpx.post(
        f"{copy['deploymentUrl']}/api/query",
        json={
            "path": "_system/frontend/paginatedTableDocuments",
            "args": {
                "table": "tasks",
                "filters": None,
                "paginationOpts": {"numItems": 100, "cursor": None},
            },
            "format": "json",
        },
        headers={"Authorization": f"Convex {key['deployKey']}"},
        timeout=60,
    ).json()
    assert page["status"] == "success", page
    assert [d["text"] for d in page["value"]["page"]] == ["saved in the backup"]
