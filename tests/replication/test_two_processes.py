"""Two sync processes for one Postgres deployment, driven by the official PyPI client."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import pytest
from convex import ConvexClient
from convex.http_client import ConvexHttpClient

from tests.compat.conftest import ConvexCli

from .conftest import Cluster

pytestmark = pytest.mark.slow


def _bodies(rows: Any) -> list[Any]:
    return [r["body"] for r in rows]


def test_replica_serves_and_forwards(cluster: Cluster) -> None:
    a, b = cluster.servers
    # Subscribed on the replica, written on the committer.
    watcher_b, writer_a = ConvexClient(b.url), ConvexClient(a.url)
    sub_b = watcher_b.subscribe("messages:list", {"channel": "x"})
    assert next(sub_b) == []
    writer_a.mutation("messages:send", {"channel": "x", "body": "from a"})
    assert _bodies(next(sub_b)) == ["from a"]
    sub_b.unsubscribe()
    # And the other way round: subscribed on the committer, written on the replica.
    watcher_a, writer_b = ConvexClient(a.url), ConvexClient(b.url)
    sub_a = watcher_a.subscribe("messages:list", {"channel": "y"})
    assert next(sub_a) == []
    writer_b.mutation("messages:send", {"channel": "y", "body": "from b"})
    assert _bodies(next(sub_a)) == ["from b"]
    sub_a.unsubscribe()
    # Mutations on the replica land exactly once and are readable there right away.
    for i in range(10):
        writer_b.mutation("messages:send", {"channel": "z", "body": f"m{i}"})
        assert len(writer_b.query("messages:list", {"channel": "z"})) == i + 1
    assert _bodies(writer_a.query("messages:list", {"channel": "z"})) == [
        f"m{i}" for i in range(10)
    ]
    assert writer_a.query("messages:count", {}) == 12
    # The HTTP API on the replica forwards too.
    ConvexHttpClient(b.url).mutation("messages:send", {"channel": "h", "body": "over http"})
    assert _bodies(ConvexHttpClient(a.url).query("messages:list", {"channel": "h"})) == [
        "over http"
    ]
    assert "POST /api/_strata/replication/commit" in a.log()  # B forwarded, A committed


def test_push_to_the_replica_reaches_every_process(cluster: Cluster) -> None:
    a, b = cluster.servers
    assert cluster.app_dir is not None
    source = cluster.app_dir / "convex" / "messages.ts"
    source.write_text(
        source.read_text()
        + '\nexport const ping = query({ args: {}, handler: async () => "pong" });\n'
    )
    ConvexCli(b, cluster.app_dir).deploy()
    assert ConvexClient(b.url).query("messages:ping", {}) == "pong"
    # The committer re-activates pushed code on a background thread, right after the commit.
    client_a, deadline = ConvexClient(a.url), time.monotonic() + 30
    while True:
        try:
            assert client_a.query("messages:ping", {}) == "pong"
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_forward_endpoint_needs_admin_key(cluster: Cluster) -> None:
    a = cluster.servers[0]
    reply = httpx.post(f"{a.url}/api/_strata/replication/commit", json={"token": "x" * 10})
    assert reply.status_code == 401


def test_killing_the_committer_promotes_the_replica(cluster: Cluster) -> None:
    a, b = cluster.servers
    client_b = ConvexClient(b.url)
    for i in range(5):
        client_b.mutation("messages:send", {"channel": "k", "body": f"before{i}"})
    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=10)
    # The replica takes the committer lock over; its writes keep working, none was lost.
    client_b.mutation("messages:send", {"channel": "k", "body": "after"})
    assert _bodies(client_b.query("messages:list", {"channel": "k"})) == [
        *(f"before{i}" for i in range(5)),
        "after",
    ]
    # A new process joins as a replica of the new committer and sees everything.
    c = cluster.start()
    client_c = ConvexClient(c.url)
    sub = client_c.subscribe("messages:list", {"channel": "k"})
    assert len(_bodies(next(sub))) == 6
    client_c.mutation("messages:send", {"channel": "k", "body": "via c"})
    assert _bodies(next(sub))[-1] == "via c"
    sub.unsubscribe()
    assert client_b.query("messages:count", {}) == 7
    assert "promoted to committer" in b.log()


def test_sqlite_deployment_refuses_a_second_role(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dataplane.transactions import DatabaseError, open_database

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with pytest.raises(DatabaseError, match="postgresql:// or mysql://"):
        open_database(url, role="auto")
    with pytest.raises(DatabaseError, match="Unknown role"):
        open_database(url, role="leader")
