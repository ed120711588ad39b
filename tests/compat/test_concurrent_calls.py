"""A burst of concurrent calls on a fresh server process: every one answers, the process lives.

V8 is started by the process's main thread (DeploymentApp.start); started by the push's or a
request's worker thread instead, mini-racer crashed the whole process (SIGSEGV) as soon as a
few isolates were made at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from convex import ConvexInt64
from convex.http_client import ConvexHttpClient

from .conftest import ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow

CALLERS = 8


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = start_server(tmp_path / "deployment", extra_env={"STRATA_DP_ISOLATE_POOL": "1"})
    try:
        yield srv
    finally:
        srv.stop()


def _burst(server: Server, owner: str) -> list[str]:
    def add(i: int) -> str:
        client = ConvexHttpClient(server.url)
        task_id: str = client.mutation(
            "tasks:add", {"owner": owner, "text": f"t{i}", "priority": ConvexInt64(i)}
        )
        return task_id

    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(add, range(CALLERS * 3)))


def test_concurrent_first_mutations_after_push_and_after_restart(
    server: Server, tmp_path: Path
) -> None:
    cli = ConvexCli(server, copy_app("deploy_app", tmp_path / "work"))
    cli.deploy()
    ids = _burst(server, "ann")
    assert len(set(ids)) == CALLERS * 3
    assert server.process.poll() is None, server.log()[-3000:]

    # The restarted process restores the code lazily: its first isolates come from workers.
    server.stop()
    restarted = start_server(server.data_dir, extra_env={"STRATA_DP_ISOLATE_POOL": "1"})
    try:
        assert len(set(_burst(restarted, "bob"))) == CALLERS * 3
        assert restarted.process.poll() is None, restarted.log()[-3000:]
        rows = ConvexHttpClient(restarted.url).query("tasks:list", {"owner": "ann"})
        assert len(rows) == CALLERS * 3  # nothing lost across the restart
    finally:
        restarted.stop()
