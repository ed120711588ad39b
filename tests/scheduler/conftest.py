"""Fixtures for scheduler tests: tests/apps/scheduler_app bundled as the CLI pushes it, a real
SQLite deployment running it, and a polling helper (deadline-bounded, no fixed sleeps)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from dataplane.runtime import AppAnalysis, Bundle, analyze_bundle, build_bundle
from tests.apps.cli_bundle import cli_modules

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last value {value!r})")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def sched_bundle() -> Bundle:
    return build_bundle(cli_modules("scheduler_app"))


@pytest.fixture(scope="session")
def sched_analysis(sched_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(sched_bundle, {})


def make_deployment(tmp: Path, name: str, database_url: str = "") -> DeploymentApp:
    config = DeploymentConfig(
        name=name,
        data_dir=tmp / name,
        database_url=database_url or f"sqlite:///{tmp / name / 'db.sqlite3'}",
        instance_secret="test-secret",
        public_url="http://127.0.0.1:0",
    )
    return DeploymentApp(config)


@pytest.fixture
def deployment(tmp_path: Path, sched_bundle: Bundle, sched_analysis: AppAnalysis) -> Iterator[Any]:
    """A deployment with scheduler_app active; its scheduler is NOT started (tests decide)."""
    d = make_deployment(tmp_path, f"sched-{tmp_path.name[-12:]}")
    d.runner.activate(sched_bundle, sched_analysis, {})
    try:
        yield d
    finally:
        d.close()
