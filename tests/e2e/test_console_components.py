"""The console's data browser on an app with components, in Chromium: the component picker
lists the instances, a component's tables and documents are its own, and a document added
there lands in the component (read back through the app's function)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import REPO, ControlPlane, run_browser

pytestmark = pytest.mark.slow


def app_copy(dest: Path) -> Path:
    """tests/apps/components_app with a package.json and node_modules the official CLI accepts."""
    target = dest / "components_app"
    shutil.copytree(REPO / "tests" / "apps" / "components_app", target)
    (target / "package.json").write_text(
        json.dumps(
            {"name": "components-app", "private": True, "dependencies": {"convex": "1.48.0"}}
        )
    )
    (target / "node_modules").symlink_to(REPO / "node_modules")
    (dest / "home").mkdir(exist_ok=True)
    return target


def test_data_browser_picks_a_component(control_plane: ControlPlane, tmp_path: Path) -> None:
    app = app_copy(tmp_path / "work")
    r = run_browser(
        "components",
        control_plane,
        tmp_path,
        STRATA_E2E_APP_DIR=str(app),
        STRATA_REPO_DIR=str(REPO),
    )
    assert r["components"] == ["App (root)", "counter", "counter2", "ledger", "ledger/counter"]
    assert r["addedInComponent"]["second"] == 7 and r["addedInComponent"]["first"] == 0
    assert sorted(r["rootTables"]) == ["counts", "notes"]
