"""Fixtures: every engine test runs against both backends (SQLite file and real Postgres)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.transactions import Database, open_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL for each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open Database on a fresh store, closed afterwards."""
    database = open_database(db_url)
    try:
        yield database
    finally:
        database.close()
