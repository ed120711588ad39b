"""Shared fixtures: real PostgreSQL and MySQL databases per test and the SQLite default."""

from __future__ import annotations

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
