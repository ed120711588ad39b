"""Fixtures: a real DeploymentApp (SQLite file or real Postgres) and CLI-shaped push requests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from tests.apps.cli_bundle import APPS, _bundle_json

PushRequest = Callable[..., dict[str, Any]]


def make_deployment(tmp_path: Path, database_url: str) -> DeploymentApp:
    config = DeploymentConfig(
        name="deploy-test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        instance_secret="s" * 64,
        public_url="http://127.0.0.1:3210",
    )
    return DeploymentApp(config)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[DeploymentApp]:
    """A deployment on a fresh SQLite database."""
    dep = make_deployment(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        yield dep
    finally:
        dep.close()


def app_variant(tmp_path: Path, name: str, edits: dict[str, str] | None = None) -> Path:
    """A copy of tests/apps/deploy_app/convex with files replaced (path -> new source)."""
    target = tmp_path / "apps" / name / "convex"
    shutil.copytree(APPS / "deploy_app" / "convex", target)
    (target.parent / "node_modules").symlink_to(APPS.parent.parent / "node_modules")
    for rel, text in (edits or {}).items():
        if text == "":
            (target / rel).unlink()
        else:
            (target / rel).write_text(text)
    return target


def push_request(convex_dir: Path | None = None, **overrides: Any) -> dict[str, Any]:
    """The StartPushRequest the CLI would send for an app (all modules changed)."""
    data = json.loads(_bundle_json(str(convex_dir or APPS / "deploy_app" / "convex")))
    request: dict[str, Any] = {
        "adminKey": "unused-in-direct-calls",
        "dryRun": False,
        "functions": "convex/",
        "appDefinition": {
            "definition": None,
            "dependencies": [],
            "schema": data["schema"],
            "changedModules": data["modules"],
            "unchangedModuleHashes": [],
            "udfServerVersion": "1.48.0",
        },
        "componentDefinitions": [],
        "nodeDependencies": [],
    }
    request.update(overrides)
    return request
