"""Inferred JSON Schemas of tables without a validator, kept until the table is written.

Inferring reads the whole table, and connectors call `json_schemas` on every sync, so each
table's result is kept with the version it was computed at: the timestamp of the table's
last commit seen by this process (a commit listener, which also runs for commits a read
replica applies). A table written since gets inferred again on its next call; an unchanged
one costs nothing. A process starts with no versions and no entries, so nothing stale
survives a restart.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable
from typing import Any

from ..transactions import CommitRecord, Database

Infer = Callable[[str], dict[str, Any]]


class InferredSchemas:
    """Per-table cache of `infer(table)` results, invalidated by commits to the table."""

    def __init__(self, db: Database, infer: Infer) -> None:
        self.db = db
        self.infer = infer
        self._lock = threading.Lock()
        self._written: dict[str, int] = {}  # table -> ts of its last commit seen
        self._cache: dict[str, tuple[int | None, dict[str, Any]]] = {}
        self.computed = 0  # inferences run (tests and figures read it)
        db.add_commit_listener(self._on_commit)

    def _on_commit(self, record: CommitRecord) -> None:
        with self._lock:
            for table in record.tables:
                self._written[table] = record.ts

    def get(self, table: str) -> dict[str, Any]:
        """The table's inferred schema (a copy the caller may change)."""
        with self._lock:
            version = self._written.get(table)
            hit = self._cache.get(table)
        if hit is None or hit[0] != version:
            # Keyed by the version seen before reading: a write landing during the read
            # moves the version on, so the next call infers again.
            schema = self.infer(table)
            with self._lock:
                self._cache[table] = (version, schema)
                self.computed += 1
            hit = (version, schema)
        return copy.deepcopy(hit[1])

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.db.remove_commit_listener(self._on_commit)
