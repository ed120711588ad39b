"""Stable reactive pagination: a subscribed page keeps its end across writes (real V8 runner).

Without journals a page re-run after a delete would pull the next page's first item in (and
after an insert inside it, push its last item out), so items would jump between pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import analyze_bundle, build_bundle
from dataplane.runtime.journal import journal_end_cursor, make_journal
from dataplane.sync.backend import QueryRun
from dataplane.sync.protocol import AddQuery, ModifyQuerySet
from dataplane.sync.runtime_backend import RuntimeBackend
from dataplane.sync.subscriptions import SubscriptionManager
from dataplane.transactions import IndexDefinition
from tests.apps.cli_bundle import cli_modules
from tests.sync.conftest import sqlite_deployment

from .test_subscriptions import Wire

FIRST_PAGE = {"channel": "c", "paginationOpts": {"numItems": 2.0, "cursor": None}}


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[DeploymentApp]:
    dep = sqlite_deployment(tmp_path, "journals", "test-secret")
    bundle = build_bundle(cli_modules("messages"))
    analysis = analyze_bundle(bundle)
    for table in (analysis.schema or {}).get("tables", []):
        dep.db.ensure_table(table["tableName"])
        dep.db.set_indexes(
            table["tableName"],
            [IndexDefinition(i["indexDescriptor"], i["fields"]) for i in table["indexes"]],
        )
    dep.runner.activate(bundle, analysis, {})
    try:
        yield dep
    finally:
        dep.close()


def _send(backend: RuntimeBackend, body: str) -> str:
    out = backend.run_mutation("messages:send", {"channel": "c", "author": "a", "body": body}, None)
    return str(out.value)


def _bodies(update: dict[str, Any]) -> list[str]:
    return [d["body"] for d in update["value"]["page"]]


def test_journal_round_trip_and_garbage_is_ignored() -> None:
    assert make_journal(None) is None
    assert journal_end_cursor(make_journal("cursor-1")) == "cursor-1"
    for junk in (None, "", "not json", "[1]", '{"endCursor": 5}', "x" * 10_000):
        assert journal_end_cursor(junk) is None


def test_subscribed_page_keeps_its_end_across_deletes_and_inserts(
    deployment: DeploymentApp,
) -> None:
    backend = RuntimeBackend(deployment.runner)
    ids = [_send(backend, body) for body in ("a", "b", "c", "d")]

    async def scenario() -> None:
        manager = SubscriptionManager(deployment.db, backend)
        wire = Wire(manager)
        wire.add(0, "messages:page", FIRST_PAGE)
        await manager.step()
        (first,) = [m for f in wire.take() for m in f["modifications"]]
        assert _bodies(first) == ["a", "b"]
        assert journal_end_cursor(first["journal"]) == first["value"]["continueCursor"]

        backend.run_mutation("messages:remove", {"id": ids[0]}, None)
        await manager.step()
        (after_delete,) = [m for f in wire.take() for m in f["modifications"]]
        assert _bodies(after_delete) == ["b"]  # shrinks in place: "c" stays on page two
        assert after_delete["value"]["continueCursor"] == first["value"]["continueCursor"]

        # A second client (or this one after a reconnect) resubscribing with the journal
        # gets the same page, not a fresh two-item page.
        other = Wire(manager)
        other.session.modify_query_set(
            ModifyQuerySet(
                0, 1, (AddQuery(0, "messages:page", FIRST_PAGE, first["journal"], None),)
            )
        )
        await manager.step()
        (resumed,) = [m for f in other.take() for m in f["modifications"]]
        assert _bodies(resumed) == ["b"]

    asyncio.run(scenario())


def test_last_page_grows_with_inserts_at_the_end(deployment: DeploymentApp) -> None:
    backend = RuntimeBackend(deployment.runner)
    _send(backend, "a")
    ts = deployment.db.latest_ts()
    first = backend.run_query("messages:page", FIRST_PAGE, None, ts, None)
    assert isinstance(first, QueryRun)
    assert first.value["isDone"] is True and first.journal is not None
    for body in ("b", "c", "d"):
        _send(backend, body)
    ts = deployment.db.latest_ts()
    again = backend.run_query("messages:page", FIRST_PAGE, None, ts, first.journal)
    fresh = backend.run_query("messages:page", FIRST_PAGE, None, ts, None)
    assert isinstance(again, QueryRun) and isinstance(fresh, QueryRun)
    assert [d["body"] for d in again.value["page"]] == ["a", "b", "c", "d"]
    assert [d["body"] for d in fresh.value["page"]] == ["a", "b"]
