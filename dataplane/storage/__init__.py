"""Persistence backends for the document log and index entries (SQLite default, Postgres, MySQL)."""

from __future__ import annotations

from .base import (
    DocumentVersion,
    IndexEntry,
    IndexRow,
    Persistence,
    PersistenceLocked,
    RequestRecord,
    ScanRow,
    TableRow,
)


def open_persistence(url: str) -> Persistence:
    """Open the backend named by a database URL (sqlite:///abs/path, postgresql://... or mysql://...)."""
    if url.startswith("sqlite:"):
        from .sqlite import SqlitePersistence

        return SqlitePersistence(url)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresPersistence

        return PostgresPersistence(url)
    if url.startswith("mysql:"):
        from .mysql import MySQLPersistence

        return MySQLPersistence(url)
    raise ValueError(
        f"Unsupported database URL {url!r}: use sqlite:///path, postgresql://... or mysql://..."
    )


__all__ = [
    "DocumentVersion",
    "IndexEntry",
    "IndexRow",
    "Persistence",
    "PersistenceLocked",
    "RequestRecord",
    "ScanRow",
    "TableRow",
    "open_persistence",
]
