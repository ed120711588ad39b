"""The deployment dashboard's remaining tabs against a real data plane, in Chromium: edit
documents in the data browser (checked through the official HTTP client), scheduled jobs and
crons, file upload and download, schema and indexes, snapshot export, download and import;
plus keyboard reachability and a 360px screen on each tab."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, ControlPlane, run_browser

pytestmark = pytest.mark.slow

APP = Path(__file__).with_name("console_app")


def app_copy(dest: Path) -> Path:
    """tests/e2e/console_app with a package.json and node_modules the official CLI accepts."""
    target = dest / "console_app"
    shutil.copytree(APP, target)
    (target / "package.json").write_text(
        json.dumps({"name": "console-app", "private": True, "dependencies": {"convex": "1.48.0"}})
    )
    (target / "node_modules").symlink_to(REPO / "node_modules")
    (dest / "home").mkdir(exist_ok=True)
    return target


def test_dashboard_tabs_against_a_real_deployment(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    app = app_copy(tmp_path / "work")
    r = run_browser(
        "tabs", control_plane, tmp_path, STRATA_E2E_APP_DIR=str(app), STRATA_REPO_DIR=str(REPO)
    )
    (tmp_path / "result.json").write_text(json.dumps(r, indent=2))  # kept for debugging
    # Data browser edits, seen by the official HTTP client.
    assert r["edited"]["text"] == "edited in the console" and r["edited"]["done"] is True
    assert r["stripped"]["_id"] == r["addedId"] and "done" not in r["stripped"]
    assert "added in the console" not in r["remaining"]
    assert "edited in the console" not in r["remaining"]
    assert "seeded by another client" in r["remaining"]
    browse = r["browse"]
    assert browse["created"] and browse["created"].endswith("Z")  # _creationTime as a date
    assert browse["linkedRow"] == r["addedId"]  # the reminder's task id opened that task
    assert "seeded by another client" in browse["filteredText"]
    assert browse["sortedTexts"] == sorted(browse["sortedTexts"])
    # Schedules: the pending job (by its id), the deployed cron, canceling the job.
    assert r["scheduledId"] in r["jobsText"]
    assert "tasks:remind" in r["jobsText"] and "pending" in r["jobsText"]
    assert "daily digest" in r["cronsText"] and "daily at 04:00 UTC" in r["cronsText"]
    assert r["canceledState"] == "canceled"  # canceled from the UI, seen through the API
    # Files: listed, downloadable byte for byte, deletable.
    assert r["fileRows"] >= 1
    assert "text/plain" in r["fileRowText"] and " B" in r["fileRowText"]  # type and size
    assert r["downloadedMatches"] is True
    assert r["fileType"].startswith("text/plain")
    assert r["afterDeleteStatus"] == 404  # deleted from the Files tab
    # Schema: both tables and the index.
    assert "tasks" in r["schemaText"] and "reminders" in r["schemaText"]
    assert "by_text" in r["schemaText"]
    # Snapshots: progress was rendered before the download button; the ZIP holds the tasks.
    states = [s["text"] for s in r["exportStates"]]
    assert any(s["progress"] for s in r["exportStates"]), states  # a progress bar was shown
    assert "completed" in states[-1], states
    with zipfile.ZipFile(r["zipPath"]) as z:
        tasks = z.read("tasks/documents.jsonl").decode()
    assert "seeded by another client" in tasks
    assert r["importConfirmed"] is True  # the UI asked to confirm the replace, as Convex does
    assert "added after the export" not in r["tasksAfterImport"]
    assert "seeded by another client" in r["tasksAfterImport"]
    # Keyboard and phone width.
    assert r["keyboardReached"] == ["Schedules", "Files", "Schema", "Snapshots", "Data"]
    assert len(r["overflow"]) == 5 and all(v <= 0 for v in r["overflow"].values()), r["overflow"]
