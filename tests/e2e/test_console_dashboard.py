"""Deployment dashboard against a real deployment: after `npx convex deploy` (official CLI, with
the deploy key the console issued) the Functions tab lists the app, the runner calls a mutation
and a query through the official ConvexHttpClient, and the Logs tab streams the executions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import REPO, ControlPlane, run_browser

pytestmark = pytest.mark.slow


def app_copy(dest: Path) -> Path:
    """tests/apps/messages with a package.json and node_modules the official CLI accepts."""
    target = dest / "messages"
    shutil.copytree(REPO / "tests" / "apps" / "messages", target)
    (target / "package.json").write_text(
        json.dumps({"name": "messages", "private": True, "dependencies": {"convex": "1.48.0"}})
    )
    (target / "node_modules").symlink_to(REPO / "node_modules")
    (dest / "home").mkdir(exist_ok=True)
    return target


def test_functions_runner_and_logs(control_plane: ControlPlane, tmp_path: Path) -> None:
    app = app_copy(tmp_path / "work")
    result = run_browser(
        "functions-logs",
        control_plane,
        tmp_path,
        STRATA_E2E_APP_DIR=str(app),
        STRATA_REPO_DIR=str(REPO),
    )
    assert {"messages:send", "messages:list", "messages:count"} <= set(result["listed"])
    assert "messages:send" in result["logText"]
    assert "[INFO]" in result["logText"]
    assert result["body"] in result["logText"]  # the mutation's console.info line, verbatim
    assert result["listOnly"] >= 1  # messages:list ran; the filter hid messages:send
    assert "messages:send" in result["byText"] and result["body"] in result["byText"]
    # The Health table's row of messages:send: its one call, no failure.
    assert any(r.startswith("messages:send10") for r in result["healthRows"]), result["healthRows"]
    assert "calls in the window" in result["callsCaption"]
