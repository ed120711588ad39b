"""The issue's full flow: sign up, create a project, deploy a sample app with the official CLI
using the deploy key the console issued, and watch a document inserted by another client
(the official ConvexHttpClient) appear in the console's data browser without a reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import REPO, ControlPlane, run_browser
from .test_console_dashboard import app_copy

pytestmark = pytest.mark.slow


def test_document_from_another_client_appears_live(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    app = app_copy(tmp_path / "work")
    result = run_browser(
        "live-data",
        control_plane,
        tmp_path,
        STRATA_E2E_APP_DIR=str(app),
        STRATA_REPO_DIR=str(REPO),
    )
    assert result["reloaded"] is False
    assert result["rows"] >= 2
