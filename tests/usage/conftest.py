"""Usage fixtures: a deployment on a real SQLite file running the sample app in real V8."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import AppAnalysis, Bundle, FunctionRunner, analyze_bundle, build_bundle
from tests.apps.cli_bundle import cli_modules
from tests.runtime.conftest import activate, make_deployment


@pytest.fixture(scope="session")
def app_bundle() -> Bundle:
    return build_bundle(cli_modules("messages"))


@pytest.fixture(scope="session")
def app_analysis(app_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(app_bundle, {"SECRET": "s3cret"})


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[DeploymentApp]:
    d = make_deployment(tmp_path, "usage-test")
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def runner(
    deployment: DeploymentApp, app_bundle: Bundle, app_analysis: AppAnalysis
) -> FunctionRunner:
    return activate(deployment, app_bundle, app_analysis)
