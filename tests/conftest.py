"""Shared fixtures: real PostgreSQL and MySQL databases per test and the SQLite default."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
import pymysql
import pytest

from dataplane.storage.mysql import connect_kwargs

POSTGRES_ADMIN_URL = os.environ.get(
    "STRATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# A user allowed to create and drop databases (.ci/run creates it on the local MariaDB).
MYSQL_ADMIN_URL = os.environ.get(
    "STRATA_TEST_MYSQL_URL", "mysql://strata:strata@127.0.0.1:3306/mysql"
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the real server, dropped afterwards."""
    name = f"strata_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A fresh, empty MySQL database on the real server (MariaDB in CI), dropped afterwards."""
    name = f"strata_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = pymysql.connect(**connect_kwargs(MYSQL_ADMIN_URL))
    except pymysql.err.OperationalError as exc:
        pytest.fail(
            f"MySQL server unreachable at {MYSQL_ADMIN_URL.split('@')[-1]} ({exc}); start it "
            "(.ci/run does) or point STRATA_TEST_MYSQL_URL at one",
            pytrace=False,
        )
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        base, _, _ = MYSQL_ADMIN_URL.rpartition("/")
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def _session_data_planes(root: str, before: set[int]) -> list[int]:
    """Data-plane processes started during this session whose data dir lies under `root`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in before:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            if b"dataplane" not in cmdline or b"serve" not in cmdline:
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        for var in environ:
            if var.startswith(b"STRATA_DP_DATA_DIR=") and var[19:].decode(
                errors="replace"
            ).startswith(root):
                found.append(int(entry))
    return found


def _data_plane_pids() -> set[int]:
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


@pytest.fixture(scope="session", autouse=True)
def _no_data_plane_outlives_the_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Data planes run in their own session so that they survive a crashed control plane; a
    test that stops its control plane abruptly leaves them running. None may outlive the run."""
    import signal
    import time

    before = _data_plane_pids() if os.path.isdir("/proc") else set()
    yield
    if not os.path.isdir("/proc"):
        return
    root = str(tmp_path_factory.getbasetemp())
    left = _session_data_planes(root, before)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while left and time.monotonic() < deadline:
        left = [pid for pid in left if os.path.exists(f"/proc/{pid}")]
        time.sleep(0.2)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `long` (a second backend's run of a long suite) run with STRATA_TEST_LONG=1
    (`STRATA_TEST_LONG=1 ./scripts/test`), so the default run stays within CI's time."""
    if os.environ.get("STRATA_TEST_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long suite's second backend: set STRATA_TEST_LONG=1")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
