"""The Django side of the console: the SPA shell and assets, their headers, and refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def dist(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "dist"
    root.mkdir()
    (root / "index.html").write_text('<!doctype html><script src="/console-assets/app-1.js">')
    (root / "app-1.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("outside dist")
    settings.STRATA_CONSOLE_DIST = str(root)
    return root


def test_shell_served_at_root_with_csp(client: Client, dist: Path) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
    assert b"/console-assets/app-1.js" in r.content
    assert r["Cache-Control"] == "no-cache"
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "ws:" in csp  # the data browser's ConvexClient opens WebSockets to deployments


def test_hashed_asset_cached_forever(client: Client, dist: Path) -> None:
    r = client.get("/console-assets/app-1.js")
    assert r.status_code == 200
    assert "javascript" in r["Content-Type"]
    assert b"".join(r.streaming_content) == b"console.log('hi')"
    assert "immutable" in r["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "/console-assets/../secret.txt",
        "/console-assets/%2e%2e/secret.txt",
        "/console-assets/missing.js",
        "/console-assets/index.html",
    ],
)
def test_assets_outside_dist_or_missing_are_404(client: Client, dist: Path, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert b"outside dist" not in r.content


def test_unbuilt_console_says_how_to_build(client: Client, tmp_path: Path, settings: Any) -> None:
    settings.STRATA_CONSOLE_DIST = str(tmp_path / "nowhere")
    r = client.get("/")
    assert r.status_code == 503
    assert b"scripts/install" in r.content


def test_only_get(client: Client, dist: Path) -> None:
    assert client.post("/").status_code == 405


def test_api_routes_still_reach_the_api(client: Client, dist: Path) -> None:
    r = client.get("/v1/teams")
    assert r.status_code == 401
    assert r.json()["code"]
