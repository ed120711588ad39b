"""Fixtures: in-process deployments on real SQLite (or Postgres) with their job runners."""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from tests.compat.conftest import Server, start_server


def make_deployment(data_dir: Path, database_url: str = "") -> DeploymentApp:
    return DeploymentApp(
        DeploymentConfig(
            name="exports-test",
            data_dir=data_dir,
            database_url=database_url or f"sqlite:///{data_dir / 'db.sqlite3'}",
            instance_secret="test-secret",
            public_url="http://127.0.0.1:9",
        )
    )


@pytest.fixture
def new_deployment(tmp_path: Path) -> Iterator[Callable[[str], DeploymentApp]]:
    """Factory of fresh deployments under tmp_path; all closed afterwards."""
    made: list[DeploymentApp] = []

    def make(name: str, database_url: str = "") -> DeploymentApp:
        dep = make_deployment(tmp_path / name, database_url)
        made.append(dep)
        return dep

    yield make
    for dep in made:
        dep.exports.wait()
        dep.files.close()
        dep.close()


def wait_for(predicate: Callable[[], Any], timeout: float = 120.0) -> Any:
    """Poll until predicate() is truthy (a functional wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def same_value(a: Any, b: Any) -> bool:
    """Exact equality of Convex values, telling NaN payloads, -0.0 and int/float apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return bool(a == b)


@pytest.fixture
def dataplane_server(tmp_path: Path) -> Iterator[Server]:
    """A real deployment server process (SQLite) on a free port; stopped after the test."""
    server = start_server(tmp_path / "deployment")
    try:
        yield server
    finally:
        server.stop()
