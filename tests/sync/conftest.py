"""Sync fixtures: a real SQLite database with the Python test functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from dataplane.transactions import Database, open_database

from .pybackend import PyBackend


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'sync.sqlite3'}")
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def backend(db: Database) -> PyBackend:
    return PyBackend(db)


def sqlite_deployment(tmp_path: Path, name: str, secret: str = "test-secret") -> DeploymentApp:
    """A deployment on a fresh SQLite file under tmp_path (the caller closes it)."""
    return DeploymentApp(
        DeploymentConfig(
            name=name,
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            instance_secret=secret,
            public_url="http://127.0.0.1:1",
        )
    )
