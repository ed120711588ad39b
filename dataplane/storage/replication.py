"""What a read replica learns from one poll of the persisted log (Postgres, MySQL)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import DocumentVersion, IndexRow, TableRow


@dataclass(frozen=True, slots=True)
class LogSlice:
    """Rows committed after a ts, read in one snapshot, so they form a gap-free prefix.

    `catalog` is set when a schema change (meta_ts) happened after that ts.
    """

    documents: list[DocumentVersion]
    entries: list[tuple[int, bytes, int]]  # (index id, key, ts)
    meta_ts: int
    catalog: tuple[list[TableRow], list[IndexRow]] | None
    retention_ts: int = 0  # the committer collected history before this ts
