"""A query that throws stays reactive on what it read, and only on that (real V8 runner)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import analyze_bundle, build_bundle
from dataplane.sync.backend import QueryFailed
from dataplane.sync.runtime_backend import RuntimeBackend
from dataplane.sync.subscriptions import SubscriptionManager
from tests.apps.cli_bundle import cli_modules
from tests.sync.conftest import sqlite_deployment

from .test_subscriptions import Wire


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[DeploymentApp]:
    dep = sqlite_deployment(tmp_path, "failing-queries", "test-secret")
    bundle = build_bundle(cli_modules("failing"))
    dep.runner.activate(bundle, analyze_bundle(bundle), {})
    try:
        yield dep
    finally:
        dep.close()


def test_thrown_query_returns_its_read_set(deployment: DeploymentApp) -> None:
    backend = RuntimeBackend(deployment.runner)
    out = backend.run_query("items:firstOrThrow", {}, None, deployment.db.latest_ts(), None)
    assert isinstance(out, QueryFailed)
    assert "no items yet" in out.error.message
    other = backend.run_mutation("items:add", {"table": "others", "name": "x"}, None)
    items = backend.run_mutation("items:add", {"table": "items", "name": "y"}, None)
    log = deployment.db.commits_since(out.ts)
    by_ts = {r.ts: r for r in log}
    assert not out.read_set.overlaps(by_ts[other.commit_ts])
    assert out.read_set.overlaps(by_ts[items.commit_ts])


def test_failed_subscription_reruns_only_when_its_reads_change(deployment: DeploymentApp) -> None:
    backend = RuntimeBackend(deployment.runner)

    async def scenario() -> None:
        manager = SubscriptionManager(deployment.db, backend)
        wire = Wire(manager)
        wire.add(0, "items:firstOrThrow", {})
        await manager.step()
        (first,) = wire.take()
        assert first["modifications"][0]["type"] == "QueryFailed"
        runs = manager.executions
        for i in range(3):  # unrelated commits: the failed query is not re-run
            backend.run_mutation("items:add", {"table": "others", "name": f"o{i}"}, None)
            await manager.step()
        assert manager.executions == runs
        backend.run_mutation("items:add", {"table": "items", "name": "first"}, None)
        await manager.step()
        assert manager.executions == runs + 1
        updates = [m for f in wire.take() for m in f["modifications"]]
        assert updates[-1]["type"] == "QueryUpdated" and updates[-1]["value"] == "first"

    asyncio.run(scenario())
