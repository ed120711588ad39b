"""Persistence backends for the document log and index entries (SQLite default, Postgres)."""

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
    """Open the backend named by a database URL (sqlite:///abs/path or postgresql://...)."""
    if url.startswith("sqlite:"):
        from .sqlite import SqlitePersistence

        return SqlitePersistence(url)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresPersistence

        return PostgresPersistence(url)
    raise ValueError(f"Unsupported database URL {url!r}: use sqlite:///path or postgresql://...")


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
