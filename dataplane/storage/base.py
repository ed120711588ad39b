"""The persistence interface every backend implements: a document log plus index entries.

Every document version is a row (internal id, ts, table, value JSON or NULL for a tombstone).
Every index entry version is a row (index id, key bytes, ts, doc id, deleted). A snapshot read
at ts T takes, per key, the newest entry with ts <= T; the entry points at the document version
written at the same ts, so one join returns the document.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableRow:
    """A table's persisted name and number (the number is encoded in its ids)."""

    number: int
    name: str


@dataclass(frozen=True, slots=True)
class IndexRow:
    """A persisted index definition; `fields` includes the implicit trailing fields."""

    index_id: int
    table_number: int
    name: str
    fields: tuple[str, ...]


# (internal id, ts, table number, value JSON bytes or None for a delete)
DocumentVersion = tuple[bytes, int, int, bytes | None]
RequestRecord = tuple[str, int, str]  # (request key, commit ts, result JSON)
# (index id, key, ts, internal doc id, deleted)
IndexEntry = tuple[int, bytes, int, bytes, bool]
# (key, value JSON) of a live entry
ScanRow = tuple[bytes, bytes]

SCHEMA_VERSION = 1


class PersistenceLocked(RuntimeError):
    """Another open Database already holds this store's single-committer lock."""


class Persistence(ABC):
    """Durable storage for one deployment. Writes come from the single committer only."""

    @abstractmethod
    def load_catalog(self) -> tuple[list[TableRow], list[IndexRow]]:
        """All tables and indexes, read once on open."""

    @abstractmethod
    def max_ts(self) -> int:
        """The newest timestamp ever persisted (0 for a new database)."""

    @abstractmethod
    def create_table(self, table: TableRow, indexes: list[IndexRow], ts: int) -> None:
        """Persist a new (empty) table with its built-in indexes, atomically."""

    @abstractmethod
    def create_index(self, index: IndexRow, entries: list[IndexEntry], ts: int) -> None:
        """Persist a new index with its backfilled entries, atomically."""

    @abstractmethod
    def drop_index(self, index_id: int, ts: int) -> None:
        """Remove an index definition and all its entries."""

    @abstractmethod
    def write_commit(
        self,
        documents: list[DocumentVersion],
        entries: list[IndexEntry],
        tokens: list[tuple[str, int]] | None = None,
        requests: list[RequestRecord] | None = None,
    ) -> None:
        """Durably write one or more commits' rows (each carries its ts), atomically.

        `tokens` (token, ts) mark commits forwarded by read replicas (Postgres, MySQL);
        `requests` (key, ts, result JSON) are the de-duplication records of sync mutations.
        """

    @abstractmethod
    def mutation_request(self, key: str) -> tuple[int, str] | None:
        """(commit ts, result JSON) recorded for a mutation request key, if any."""

    @abstractmethod
    def prune_mutation_requests(self, before_ts: int) -> int:
        """Delete request records committed before `before_ts`; returns how many."""

    @abstractmethod
    def get_document(self, internal_id: bytes, ts: int) -> tuple[int, int, bytes | None] | None:
        """(table number, version ts, value JSON or None if deleted) of the newest version <= ts."""

    @abstractmethod
    def scan_index(
        self, index_id: int, lo: bytes, hi: bytes | None, ts: int, desc: bool, limit: int
    ) -> list[ScanRow]:
        """Up to `limit` live entries in [lo, hi) as of ts, ordered by key."""

    @abstractmethod
    def scan_versions(
        self, index_id: int, lo: bytes, ts: int, limit: int
    ) -> list[tuple[bytes, int, bytes]]:
        """Up to `limit` live (key, version ts, value JSON) entries from `lo` as of ts, by key."""

    @abstractmethod
    def document_versions(
        self, after_ts: int, until_ts: int, table_number: int | None, limit: int
    ) -> list[DocumentVersion]:
        """Up to `limit` document versions (deletes as None) with after_ts < ts <= until_ts,
        ordered by (ts, id), optionally of one table only."""

    @abstractmethod
    def count_live(self, index_id: int, ts: int) -> int:
        """Number of live entries in an index as of ts."""

    @abstractmethod
    def latest_documents(self, by_id_index: int) -> list[tuple[bytes, int, bytes]]:
        """(internal id, ts, value JSON) of the newest version of every live document (backfill)."""

    @abstractmethod
    def retention_ts(self) -> int:
        """Oldest ts snapshots may still read at (history before it was collected)."""

    def prune_commit_tokens(self, before_ts: int) -> int:
        """Forget forwarded-commit tokens older than `before_ts` (SQLite keeps none)."""
        return 0

    @abstractmethod
    def set_retention_ts(self, cutoff: int) -> None:
        """Record that snapshots before cutoff may no longer be read."""

    @abstractmethod
    def collect_garbage_chunk(
        self, target: str, scope: tuple[int, ...], cutoff: int, start: bytes, rows: int
    ) -> tuple[int, bytes | None]:
        """Drop versions invisible at every ts >= cutoff in one chunk of about `rows` rows.

        target "index" (scope = (index_id,)) or "documents" (scope = ()); the chunk starts at
        key/id `start`. Returns (rows deleted, start of the next chunk or None when done).
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
