"""One Postgres database per deployment on a shared server, created and dropped by drivers."""

from __future__ import annotations

import psycopg
from psycopg import sql


def database_name(deployment: str) -> str:
    return "strata_dp_" + deployment.replace("-", "_")


def database_url_for(admin_url: str, deployment: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{database_name(deployment)}"


def create_database(admin_url: str, deployment: str) -> str:
    """Create the deployment's database if missing; returns its URL."""
    name = database_name(deployment)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url_for(admin_url, deployment)


def drop_database(admin_url: str, deployment: str) -> None:
    name = database_name(deployment)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
