"""Published Convex components from npm, unmodified, in an app deployed by the official CLI.

tests/apps/published_components mounts ten `@convex-dev/*` components (versions pinned in
package.json; workflow nests workpool, which nests batch-worker like rate-limiter and
aggregate do) and tests/compat/js/published_components.mjs drives each through the official
npm clients, on SQLite and on Postgres. Each check is the component's documented behaviour.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL

from .conftest import REPO, ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "compat" / "js" / "published_components.mjs"
# The machine running the suite is shared; the published components' first calls load every
# component's code into a fresh isolate. Convex's 1 s budget is not what is tested here.
LOOSE_LIMITS = {"STRATA_DP_QUERY_SECONDS": "10", "STRATA_DP_MUTATION_SECONDS": "10"}


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    name = f"strata_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Deployed:
    server: Server
    output: str  # what `convex deploy` printed


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.long)])
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """The app deployed once per storage backend."""
    tmp = tmp_path_factory.mktemp(f"published-{request.param}")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(_postgres_database()) if request.param == "postgres" else ""
        srv = start_server(tmp / "deployment", database_url=url, extra_env=LOOSE_LIMITS)
        stack.callback(srv.stop)
        out = ConvexCli(srv, copy_app("published_components", tmp / "work")).deploy()
        yield Deployed(srv, out.stdout + out.stderr)


@pytest.fixture
def server(deployed: Deployed) -> Server:
    return deployed.server


def scenario(server: Server, name: str) -> dict[str, Any]:
    """Run one scenario; its JSON lines merged into one dict."""
    proc = subprocess.run(
        ["node", str(SCRIPT), name, server.url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or lines[-1] != {"ok": True}:
        raise AssertionError(
            f"scenario {name} failed ({proc.returncode}):\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nserver log:\n{server.log()[-4000:]}"
        )
    merged: dict[str, Any] = {}
    for line in lines[:-1]:
        merged.update(line)
    return merged


def test_cli_installs_every_component(deployed: Deployed) -> None:
    # The push adds each instance's indexes under its component path, nested ones included.
    for index in (
        "rateLimiter/rateLimits.name",
        "rateLimiter/batchWorker/workers.name",
        "shardedCounter/counters.name",
        "workpool/pendingStart.segment",
        "migrations/migrations.name",
        "workflow/workflows.name",
        "workflow/workpool/pendingStart.segment",
        "workflow/workpool/batchWorker/workers.name",
        "actionCache/metadata.expiresAt",
        "crons/crons.name",
        "geospatial/points.key",
    ):
        assert index in deployed.output, deployed.output


def test_live_subscriptions_follow_aggregate_and_sharded_counter(server: Server) -> None:
    out = scenario(server, "live")
    base = out["initial"]["stats"]
    assert out["afterInserts"]["count"] == base["count"] + 3
    assert out["afterInserts"]["sum"] == base["sum"] + 120
    assert out["afterInserts"]["top"] == 70
    # rank of score 50 counted from the top: only 70 is above it
    assert out["afterInserts"]["rankOf50"] == 1
    assert out["afterDelete"]["count"] == base["count"] + 2
    assert out["afterDelete"]["sum"] == base["sum"] + 50
    assert out["afterDelete"]["rankOf50"] == 0 and out["afterDelete"]["top"] == 40
    assert out["afterInserts"]["firstPage"] == sorted(out["afterInserts"]["firstPage"])
    initial = out["initial"]["count"]
    assert out["counted"] == initial + 4 == out["httpCount"]
    # the subscription saw the counter move (5 added, then 1 taken), not only its end state
    assert out["countUpdates"][0] == initial and len(out["countUpdates"]) >= 2


def test_rate_limiter_denies_after_the_quota(server: Server) -> None:
    out = scenario(server, "rateLimit")
    first, second, third = out["calls"]
    assert first["ok"] and second["ok"]
    assert not third["ok"] and 0 < third["retryAfter"] <= 3_600_000
    assert out["otherKey"]["ok"]  # limits are per key
    assert out["checkAnn"] is False
    assert [c["ok"] for c in out["burst"]] == [True, True, True, False]  # token bucket of 3
    assert out["afterReset"]["ok"]


def test_workpool_runs_actions_and_their_on_complete(server: Server) -> None:
    out = scenario(server, "workpool")
    by_id = {e["workId"]: e for e in out["events"]}
    assert set(by_id) == set(out["ids"])
    for n, work_id in zip((1, 2, 3), out["ids"], strict=True):
        assert by_id[work_id]["tag"] == f"t{n}"
        assert by_id[work_id]["result"] == {"kind": "success", "returnValue": 2 * n}
    assert out["statuses"] == [{"state": "finished"}] * 3
    # canceled before its start time: onComplete hears "canceled", the action never ran
    (canceled,) = out["canceledEvents"]
    assert canceled["tag"] == "late" and canceled["result"] == {"kind": "canceled"}
    assert out["canceledStatus"] == {"state": "finished"}


def test_migration_pages_through_the_table(server: Server) -> None:
    out = scenario(server, "migration")
    assert out["before"]["state"] == "unknown" and not out["before"]["isDone"]
    assert {d for _, d in out["before"]["items"]} == {None}
    after = out["after"]
    assert after["isDone"] and after["state"] == "success", after
    assert after["processed"] == 5 and after["error"] is None
    assert sorted(after["items"]) == [[n, 2 * n] for n in range(1, 6)]


def test_action_retrier_retries_until_success_or_gives_up(server: Server) -> None:
    out = scenario(server, "retrier")
    assert out["good"]["status"] == {
        "type": "completed",
        "result": {"type": "success", "returnValue": "succeeded on attempt 3"},
    }
    assert out["good"]["attempts"] == 3
    bad = out["bad"]["status"]
    assert bad["type"] == "completed" and bad["result"]["type"] == "failed"
    assert "transient failure 5" in bad["result"]["error"]
    assert out["bad"]["attempts"] == 5  # the first run and maxFailures=4 retries
    completed = {e["runId"]: e["result"]["type"] for e in out["events"]}
    assert completed == {out["goodRun"]: "success", out["badRun"]: "failed"}


def test_workflow_runs_its_steps_through_nested_components(server: Server) -> None:
    out = scenario(server, "workflow")
    assert out["status"] == {"type": "completed", "result": "HELLO ADA!"}
    assert "HELLO ADA!" in out["steps"]
    # the journal, read two steps a page through the component's own pagination
    pages = [[tuple(step) for step in page] for page in out["journalPages"]]
    assert [len(p) for p in pages][:2] == [2, 1]
    assert [s for p in pages for s in p] == [
        (0, "flows:hello", "success"),
        (1, "flows:shout", "success"),
        (2, "events:record", "success"),
    ]
    (done,) = out["completions"]
    assert done["context"] == {"name": "ada"}
    assert done["result"] == {"kind": "success", "returnValue": "HELLO ADA!"}
    # step.sleep: the workflow resumed (a job the nested workpool scheduled) after the nap
    assert out["nap"]["type"] == "completed" and out["nap"]["result"] >= 1500


def test_action_cache_serves_hits_until_removed(server: Server) -> None:
    out = scenario(server, "actionCache")
    square = out["n"] * out["n"]
    # the action ran once for the first two fetches, again after the entry was removed
    assert out["fetches"] == [
        {"value": square, "run": 1},
        {"value": square, "run": 1},
        {"value": square, "run": 2},
    ]


def test_runtime_registered_cron_runs_until_deleted(server: Server) -> None:
    out = scenario(server, "runtimeCrons")
    job = {"name": out["name"], "schedule": {"kind": "interval", "ms": 1000}}
    assert job in out["listed"]
    assert out["ticks"] >= 2  # the component rescheduled it through its own scheduler
    assert out["name"] not in [c["name"] for c in out["afterDelete"]]


def test_geospatial_index_answers_rectangles_and_nearest(server: Server) -> None:
    out = scenario(server, "geospatial")
    assert out["paris"] == ["eiffel", "louvre", "orsay"]
    assert out["parisMuseums"] == ["louvre", "orsay"]
    assert out["nearLouvre"] == ["louvre", "orsay"]
    assert out["afterRemove"] == ["eiffel", "louvre"]
