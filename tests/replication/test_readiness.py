"""/readyz, the data plane's readiness (what Kubernetes routes traffic by): 200 only when the
process can serve queries, its database answering and, on a replica, the committer's log
applied; /healthz keeps answering while the process lives."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg
import pymysql
import pytest
from convex.http_client import ConvexHttpClient

from dataplane.storage.mysql import connect_kwargs
from tests.compat.conftest import start_server
from tests.conftest import MYSQL_ADMIN_URL, POSTGRES_ADMIN_URL

from .conftest import Cluster

pytestmark = pytest.mark.redis


def test_committer_and_replica_are_ready_and_say_which(cluster: Cluster) -> None:
    committer, replica = cluster.servers
    a = httpx.get(f"{committer.url}/readyz")
    assert a.status_code == 200 and a.json()["role"] == "committer"
    ConvexHttpClient(committer.url).mutation("messages:send", {"channel": "r", "body": "x"})
    written = httpx.get(f"{committer.url}/readyz").json()["latest_ts"]
    b = httpx.get(f"{replica.url}/readyz")
    assert b.status_code == 200, b.text
    # Ready means caught up with what the committer had persisted.
    assert b.json()["role"] == "replica" and b.json()["latest_ts"] >= written


def test_not_ready_without_its_database(cluster: Cluster) -> None:
    committer, replica = cluster.servers
    name = cluster.database_url.rpartition("/")[2]
    if cluster.database_url.startswith("mysql:"):
        admin = pymysql.connect(**connect_kwargs(MYSQL_ADMIN_URL))
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE `{name}`")
        admin.close()
    else:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    for server in (committer, replica):
        r = httpx.get(f"{server.url}/readyz", timeout=30)
        assert r.status_code == 503, r.text
        assert r.json()["reason"] == "database unavailable"
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive, not ready


def test_a_sqlite_deployment_is_ready_as_its_committer(tmp_path: Path) -> None:
    server = start_server(tmp_path / "deployment")
    try:
        r = httpx.get(f"{server.url}/readyz")
        assert r.status_code == 200 and r.json()["role"] == "committer", r.text
    finally:
        server.stop()
