"""Read sets (index key intervals a transaction observed) and commit records (keys written).

A commit conflicts with, or invalidates, a reader exactly when one of the index keys it wrote
(before or after image) falls inside an interval the reader scanned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Interval:
    """Half-open key interval [lo, hi) of one index; hi None means unbounded."""

    index_id: int
    lo: bytes
    hi: bytes | None

    def contains(self, key: bytes) -> bool:
        return self.lo <= key and (self.hi is None or key < self.hi)


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """One document changed by a commit; value None means it was deleted."""

    table: str
    doc_id: str
    value: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """What one commit changed: documents plus every index key touched (old and new)."""

    ts: int
    writes: tuple[DocumentWrite, ...]
    index_keys: dict[int, list[bytes]]
    tables: frozenset[str]


@dataclass(slots=True)
class ReadSet:
    """Everything a transaction observed, as index intervals, point keys and absent tables."""

    intervals: dict[int, list[Interval]] = field(default_factory=dict)
    points: dict[int, set[bytes]] = field(default_factory=dict)
    missing_tables: set[str] = field(default_factory=set)

    def add_interval(self, index_id: int, lo: bytes, hi: bytes | None) -> Interval:
        interval = Interval(index_id, lo, hi)
        self.intervals.setdefault(index_id, []).append(interval)
        return interval

    def add_point(self, index_id: int, key: bytes) -> None:
        self.points.setdefault(index_id, set()).add(key)

    def add_missing_table(self, table: str) -> None:
        self.missing_tables.add(table)

    def merge(self, other: ReadSet) -> None:
        """Fold another read set into this one (e.g. several queries of one request)."""
        for index_id, intervals in other.intervals.items():
            self.intervals.setdefault(index_id, []).extend(intervals)
        for index_id, points in other.points.items():
            self.points.setdefault(index_id, set()).update(points)
        self.missing_tables |= other.missing_tables

    def is_empty(self) -> bool:
        return not (self.intervals or self.points or self.missing_tables)

    def overlaps(self, commit: CommitRecord) -> bool:
        """True if the commit wrote anything this read set observed."""
        if self.missing_tables and not self.missing_tables.isdisjoint(commit.tables):
            return True
        for index_id, keys in commit.index_keys.items():
            points = self.points.get(index_id)
            if points and not points.isdisjoint(keys):
                return True
            intervals = self.intervals.get(index_id)
            if intervals:
                for key in keys:
                    for interval in intervals:
                        if interval.lo <= key and (interval.hi is None or key < interval.hi):
                            return True
        return False
