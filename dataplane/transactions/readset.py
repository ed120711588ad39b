"""Read sets (index key intervals a transaction observed) and commit records (keys written).

A commit conflicts with, or invalidates, a reader exactly when one of the index keys it wrote
(before or after image) falls inside an interval the reader scanned.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Owner = TypeVar("Owner", bound=Hashable)


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


#: What one owner filed in a ReadSetIndex: ("t", table), ("p", index, key), ("i", index, prefix).
_Filing = tuple[str, Any, Any]


class ReadSetIndex(Generic[Owner]):
    """Owners (e.g. subscriptions) filed by their read sets, so that a commit finds the
    owners it invalidates from the keys it wrote instead of testing every read set.

    `invalidated(records)` is exactly the owners whose read set `overlaps` one of the
    records (or who filed None: every commit invalidates them). An interval [lo, hi) is
    filed under the common prefix of lo and hi, which every key inside it starts with (an
    unbounded one under b""); a written key is looked up under its prefixes of each length in
    use in its index, a handful when intervals come from equality on leading fields.
    """

    def __init__(self) -> None:
        self._filed: dict[Owner, list[_Filing] | None] = {}
        self._always: set[Owner] = set()
        self._tables: dict[str, set[Owner]] = {}
        self._points: dict[int, dict[bytes, set[Owner]]] = {}
        # index -> prefix -> owner -> its intervals there; and index -> prefix length -> uses
        self._intervals: dict[int, dict[bytes, dict[Owner, list[tuple[bytes, bytes | None]]]]] = {}
        self._lengths: dict[int, dict[int, int]] = {}

    def __len__(self) -> int:
        return len(self._filed)

    def __contains__(self, owner: object) -> bool:
        return owner in self._filed

    def put(self, owner: Owner, read_set: ReadSet | None) -> None:
        """File `owner` under `read_set` (replacing what it filed before); None: any commit."""
        self.discard(owner)
        if read_set is None:
            self._filed[owner] = None
            self._always.add(owner)
            return
        filed: list[_Filing] = []
        for table in read_set.missing_tables:
            self._tables.setdefault(table, set()).add(owner)
            filed.append(("t", table, None))
        for index_id, keys in read_set.points.items():
            points = self._points.setdefault(index_id, {})
            for key in keys:
                points.setdefault(key, set()).add(owner)
                filed.append(("p", index_id, key))
        for index_id, intervals in read_set.intervals.items():
            buckets = self._intervals.setdefault(index_id, {})
            lengths = self._lengths.setdefault(index_id, {})
            for interval in intervals:
                lo, hi = interval.lo, interval.hi
                prefix = b"" if hi is None else _common_prefix(lo, hi)
                ranges = buckets.setdefault(prefix, {}).setdefault(owner, [])
                if not ranges:
                    lengths[len(prefix)] = lengths.get(len(prefix), 0) + 1
                    filed.append(("i", index_id, prefix))
                ranges.append((lo, hi))
        self._filed[owner] = filed

    def discard(self, owner: Owner) -> None:
        if owner not in self._filed:
            return
        filed = self._filed.pop(owner)
        if filed is None:
            self._always.discard(owner)
            return
        for kind, where, what in filed:
            if kind == "t":
                _drop(self._tables, where, owner)
            elif kind == "p":
                _drop(self._points[where], what, owner)
                if not self._points[where]:
                    del self._points[where]
            else:
                buckets = self._intervals[where]
                del buckets[what][owner]
                if not buckets[what]:
                    del buckets[what]
                lengths = self._lengths[where]
                lengths[len(what)] -= 1
                if not lengths[len(what)]:
                    del lengths[len(what)]
                if not buckets:
                    del self._intervals[where], self._lengths[where]

    def invalidated(self, records: Iterable[CommitRecord]) -> set[Owner]:
        """The owners that one of `records` invalidates."""
        hit = set(self._always)
        for record in records:
            if self._tables:
                for table in record.tables:
                    hit.update(self._tables.get(table, ()))
            for index_id, keys in record.index_keys.items():
                points = self._points.get(index_id)
                if points:
                    for key in keys:
                        owners = points.get(key)
                        if owners:
                            hit.update(owners)
                buckets = self._intervals.get(index_id)
                if not buckets:
                    continue
                lengths = self._lengths[index_id]
                for key in keys:
                    size = len(key)
                    for length in lengths:
                        if length > size:
                            continue
                        bucket = buckets.get(key[:length])
                        if not bucket:
                            continue
                        for owner, ranges in bucket.items():
                            if owner not in hit and any(
                                lo <= key and (hi is None or key < hi) for lo, hi in ranges
                            ):
                                hit.add(owner)
        return hit


def _common_prefix(a: bytes, b: bytes) -> bytes:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return a[:i]


def _drop(table: dict[Any, set[Owner]], key: Any, owner: Owner) -> None:
    owners = table[key]
    owners.discard(owner)
    if not owners:
        del table[key]
