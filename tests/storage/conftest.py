"""Fixtures: every engine test runs against every backend (SQLite file, real Postgres, MySQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.transactions import Database, open_database


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL for each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open Database on a fresh store, closed afterwards."""
    database = open_database(db_url)
    try:
        yield database
    finally:
        database.close()
