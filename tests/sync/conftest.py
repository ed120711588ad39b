"""Sync fixtures: a real SQLite database with the Python test functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
