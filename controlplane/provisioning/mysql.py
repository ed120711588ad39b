"""One MySQL database per deployment on a shared server, created and dropped by drivers.

The admin URL (STRATA_DP_MYSQL_URL, mysql://user:pass@host:port/db) names a user allowed to
create and drop databases; each deployment's URL is the admin URL with its own database name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql


def database_name(deployment: str) -> str:
    return "strata_dp_" + deployment.replace("-", "_")


def database_url_for(admin_url: str, deployment: str) -> str:
    base, _, _ = urlsplit(admin_url)._replace(query="", fragment="").geturl().rpartition("/")
    return f"{base}/{database_name(deployment)}"


def _connect(admin_url: str) -> Any:
    parts = urlsplit(admin_url)
    if parts.scheme != "mysql":
        raise ValueError("STRATA_DP_MYSQL_URL must be mysql://user:pass@host:port/db")
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        charset="utf8mb4",
        autocommit=True,
    )


def create_database(admin_url: str, deployment: str) -> str:
    """Create the deployment's database if missing; returns its URL."""
    conn = _connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                f"CREATE DATABASE IF NOT EXISTS `{database_name(deployment)}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
    finally:
        conn.close()
    return database_url_for(admin_url, deployment)


def drop_database(admin_url: str, deployment: str) -> None:
    conn = _connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database_name(deployment)}`")
    finally:
        conn.close()
