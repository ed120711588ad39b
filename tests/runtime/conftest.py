"""Fixtures for runtime tests: the sample app bundled as the CLI would push it, a real
database (SQLite file, or PostgreSQL via `pg_runner`) and a FunctionRunner with that code active."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from dataplane.runtime import (
    AppAnalysis,
    Bundle,
    FunctionRunner,
    RuntimeLimits,
    analyze_bundle,
    build_bundle,
)
from dataplane.transactions import IndexDefinition
from tests.apps.cli_bundle import cli_modules


@pytest.fixture(scope="session")
def messages_bundle() -> Bundle:
    return build_bundle(cli_modules("messages"))


@pytest.fixture(scope="session")
def messages_analysis(messages_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(messages_bundle, {"SECRET": "s3cret"})


def apply_schema_indexes(deployment: DeploymentApp, analysis: AppAnalysis) -> None:
    """What the deploy flow does with schema.js: create each table's declared indexes."""
    for table in (analysis.schema or {}).get("tables", []):
        defs = [IndexDefinition(ix["indexDescriptor"], ix["fields"]) for ix in table["indexes"]]
        deployment.db.ensure_table(table["tableName"])
        deployment.db.set_indexes(table["tableName"], defs)


def make_deployment(tmp: Path, name: str, database_url: str | None = None) -> DeploymentApp:
    config = DeploymentConfig(
        name=name,
        data_dir=tmp / name,
        database_url=database_url or f"sqlite:///{tmp / name / 'db.sqlite3'}",
        instance_secret="test-secret",
        public_url="http://127.0.0.1:0",
    )
    return DeploymentApp(config)


def activate(
    deployment: DeploymentApp,
    bundle: Bundle,
    analysis: AppAnalysis,
    env: dict[str, str] | None = None,
    limits: RuntimeLimits | None = None,
) -> FunctionRunner:
    if limits is not None:  # the same collaborators, other limits
        old = deployment.runner
        deployment.runner = FunctionRunner(
            deployment.db,
            name=old.deployment_name,
            limits=limits,
            files=old.files,
            search=old.search,
            signer=old.signer,
        )
        deployment.runner.system = old.system
        old.close()
    apply_schema_indexes(deployment, analysis)
    deployment.runner.activate(bundle, analysis, {"SECRET": "s3cret"} if env is None else env)
    return deployment.runner


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[DeploymentApp]:
    d = make_deployment(tmp_path, "rt-test")
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def runner(
    deployment: DeploymentApp, messages_bundle: Bundle, messages_analysis: AppAnalysis
) -> FunctionRunner:
    return activate(deployment, messages_bundle, messages_analysis)


# The function-handle / signJwt sample app (tests/apps/handles_app).
@pytest.fixture(scope="session")
def handles_bundle() -> Bundle:
    return build_bundle(cli_modules("handles_app"))


@pytest.fixture(scope="session")
def handles_analysis(handles_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(handles_bundle, {})


@pytest.fixture
def hdeploy(tmp_path: Path) -> Iterator[DeploymentApp]:
    d = make_deployment(tmp_path, "handles-test")
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
def hrunner(
    hdeploy: DeploymentApp, handles_bundle: Bundle, handles_analysis: AppAnalysis
) -> FunctionRunner:
    return activate(hdeploy, handles_bundle, handles_analysis, env={})
