"""One serializable transaction: snapshot reads at a ts, buffered writes, a recorded read set.

Reads see the snapshot plus this transaction's own writes. Every read records the index keys
it covered, so the committer can detect conflicts and subscriptions can detect invalidation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from ..ids import decode_id, encode_id, new_internal_id
from ..storage.keys import encode_value, index_key, range_bounds
from ..values import UNDEFINED, ConvexValueError, from_json, validate_document
from .catalog import BY_CREATION_TIME, BY_ID, TableMeta, validate_table_name
from .errors import (
    DatabaseError,
    DocumentNotFound,
    IndexNotFound,
    InvalidIdError,
    TransactionLimitError,
)
from .limits import (
    MAX_BYTES_READ,
    MAX_BYTES_WRITTEN,
    MAX_DOCUMENTS_READ,
    MAX_DOCUMENTS_WRITTEN,
    MAX_INDEX_RANGES_READ,
)
from .readset import ReadSet

if TYPE_CHECKING:
    from .database import Database

Order = Literal["asc", "desc"]
_FIRST_PAGE = 16
_MAX_PAGE = 1024
_SYSTEM_FIELDS = ("_id", "_creationTime")


def decode_document(raw: bytes) -> dict[str, Any]:
    """Stored convex-JSON bytes -> Python document.

    Stored JSON never holds bare integers (int64 is always `$integer`), so without any `"$`
    in the bytes orjson's result is already the Python value and the tree walk is skipped.
    """
    value: dict[str, Any] = orjson.loads(raw)
    if b'"$' in raw:
        value = from_json(value)
    return value


@dataclass(slots=True)
class PendingWrite:
    """A buffered write: the snapshot value (base) and the value to commit (None = delete)."""

    table: TableMeta
    doc_id: str
    base: dict[str, Any] | None
    value: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Savepoint:
    """Buffered writes and write counters at one moment of a transaction."""

    writes: dict[bytes, PendingWrite]
    documents_written: int
    bytes_written: int


@dataclass(frozen=True, slots=True)
class MutationRequest:
    """A sync mutation's de-duplication record, committed atomically with its writes.

    `check`: the key may already be committed (a resend), so the committer must look."""

    key: str
    result_json: str
    check: bool


class Transaction:
    """Reads at `snapshot_ts`; writes become visible to others only through Database.commit."""

    def __init__(self, db: Database, snapshot_ts: int) -> None:
        self.db = db
        self.snapshot_ts = snapshot_ts
        self.read_set = ReadSet()
        self.writes: dict[bytes, PendingWrite] = {}
        self.finished = False
        self.documents_read = 0
        self.bytes_read = 0
        self.ranges_read = 0
        self.bytes_written = 0
        self.documents_written = 0
        self._last_creation_time = 0.0
        self.request: MutationRequest | None = None  # recorded with the commit, if it writes

    # ----- limits -----------------------------------------------------------------------

    def _count_range(self) -> None:
        self.ranges_read += 1
        if self.ranges_read > MAX_INDEX_RANGES_READ:
            raise TransactionLimitError(
                f"Too many reads in a single function execution (limit: {MAX_INDEX_RANGES_READ} "
                "db.get/db.query calls)"
            )

    def _count_read(self, nbytes: int) -> None:
        self.documents_read += 1
        self.bytes_read += nbytes
        if self.documents_read > MAX_DOCUMENTS_READ:
            raise TransactionLimitError(
                f"Too many documents read in a single function execution "
                f"(limit: {MAX_DOCUMENTS_READ})"
            )
        if self.bytes_read > MAX_BYTES_READ:
            raise TransactionLimitError(
                "Too many bytes read in a single function execution "
                f"(limit: {MAX_BYTES_READ} bytes)"
            )

    def _count_write(self, nbytes: int) -> None:
        self.documents_written += 1
        self.bytes_written += nbytes
        if self.documents_written > MAX_DOCUMENTS_WRITTEN:
            raise TransactionLimitError(
                f"Too many documents written in a single function execution "
                f"(limit: {MAX_DOCUMENTS_WRITTEN})"
            )
        if self.bytes_written > MAX_BYTES_WRITTEN:
            raise TransactionLimitError(
                f"Too many bytes written in a single function execution "
                f"(limit: {MAX_BYTES_WRITTEN} bytes)"
            )

    def _check_open(self) -> None:
        if self.finished:
            raise DatabaseError("Transaction already committed or aborted")

    # ----- ids and tables ---------------------------------------------------------------

    def _resolve(self, doc_id: str) -> tuple[TableMeta | None, bytes]:
        parts = decode_id(doc_id)
        if parts is None:
            raise InvalidIdError(f"Unable to decode ID: {doc_id!r} is not a valid document ID")
        return self.db.catalog.by_number.get(parts.table_number), parts.internal

    def table_for_id(self, doc_id: str) -> str | None:
        """Name of the table a well-formed id belongs to (None if malformed or unknown)."""
        parts = decode_id(doc_id)
        if parts is None:
            return None
        meta = self.db.catalog.by_number.get(parts.table_number)
        return meta.name if meta else None

    def normalize_id(self, table: str, id_str: str) -> str | None:
        """The id if it is a valid id of `table`, else None (Convex's db.normalizeId)."""
        parts = decode_id(id_str)
        meta = self.db.catalog.by_name.get(table)
        if parts is None or meta is None or parts.table_number != meta.number:
            return None
        return id_str

    # ----- reads ------------------------------------------------------------------------

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The document with this id as of the snapshot plus own writes, or None."""
        self._check_open()
        meta, internal = self._resolve(doc_id)
        pending = self.writes.get(internal)
        if pending is not None:
            return pending.value
        if meta is None:
            return None
        self._count_range()
        self.read_set.add_point(meta.by_id.index_id, encode_value(doc_id) + internal)
        found = self.db.cache.lookup(internal, self.snapshot_ts)
        if found is None:
            found = self.db.persistence.get_document(internal, self.snapshot_ts)
            if found is None:
                return None
            self.db.cache_fill(internal, found, self.snapshot_ts)
        table_number, _, raw = found
        if raw is None or table_number != meta.number:
            return None
        self._count_read(len(raw))
        return decode_document(raw)

    def index_scan(
        self,
        table: str,
        index_name: str,
        range_exprs: list[dict[str, Any]],
        order: Order = "asc",
    ) -> Iterator[dict[str, Any]]:
        """Documents of an index range in key order, fetched page by page as consumed."""
        return (doc for _, doc in self.index_scan_keyed(table, index_name, range_exprs, order))

    def index_scan_keyed(
        self,
        table: str,
        index_name: str,
        range_exprs: list[dict[str, Any]],
        order: Order = "asc",
        *,
        start_after: bytes | None = None,
        end_at: bytes | None = None,
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """(index key, document) pairs; keys are opaque cursors for pagination.

        `start_after` resumes strictly after a key previously yielded (in scan order) and
        `end_at` stops after the given key, inclusive - how paginated queries pin a page.
        """
        self._check_open()
        if order not in ("asc", "desc"):
            raise ConvexValueError(f"Invalid order {order!r}: expected 'asc' or 'desc'")
        meta = self.db.catalog.by_name.get(table)
        if meta is None:
            validate_table_name(table)
            if index_name not in (BY_ID, BY_CREATION_TIME):
                raise IndexNotFound(f"Index {table}.{index_name} not found.")
            self._count_range()
            self.read_set.add_missing_table(table)
            return iter(())
        index = meta.indexes.get(index_name)
        if index is None:
            raise IndexNotFound(f"Index {table}.{index_name} not found.")
        lo, hi = range_bounds(f"{table}.{index_name}", index.fields, range_exprs)
        desc = order == "desc"
        for bound, after in ((start_after, True), (end_at, False)):
            if bound is None:
                continue
            if not isinstance(bound, bytes):
                raise ConvexValueError("Pagination cursors must be index keys (bytes)")
            if desc == after:  # this bound caps the top of the range
                top = bound if after else bound + b"\x00"
                hi = top if hi is None else min(hi, top)
            else:
                lo = max(lo, bound + b"\x00" if after else bound)
        self._count_range()
        if hi is not None and hi <= lo:
            self.read_set.add_interval(index.index_id, lo, lo)
            return iter(())
        return self._scan(meta, index.index_id, index.fields, lo, hi, desc)

    def _scan(
        self,
        meta: TableMeta,
        index_id: int,
        fields: tuple[str, ...],
        lo: bytes,
        hi: bytes | None,
        desc: bool,
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        local: list[tuple[bytes, dict[str, Any]]] = []
        local_ids: set[bytes] = set()
        for internal, w in self.writes.items():
            if w.table.number != meta.number:
                continue
            local_ids.add(internal)
            if w.value is not None:
                key = index_key(w.value, fields, internal)
                if lo <= key and (hi is None or key < hi):
                    local.append((key, w.value))
        local.sort(key=lambda kv: kv[0], reverse=not desc)  # popped from the end
        interval = None
        persistence = self.db.persistence
        ts = self.snapshot_ts
        cur_lo, cur_hi = lo, hi
        page = _FIRST_PAGE
        while True:
            rows = persistence.scan_index(index_id, cur_lo, cur_hi, ts, desc, page)
            for key, raw in rows:
                if local_ids and key[-16:] in local_ids:
                    continue
                while local and (local[-1][0] > key if desc else local[-1][0] < key):
                    lkey, lvalue = local.pop()
                    interval = self._cover(interval, index_id, lo, hi, lkey, desc)
                    yield lkey, lvalue
                interval = self._cover(interval, index_id, lo, hi, key, desc)
                self._count_read(len(raw))
                yield key, decode_document(raw)
            if len(rows) < page:
                break
            last = rows[-1][0]
            if desc:
                cur_hi = last
            else:
                cur_lo = last + b"\x00"
            page = min(page * 2, _MAX_PAGE)
        while local:
            lkey, lvalue = local.pop()
            interval = self._cover(interval, index_id, lo, hi, lkey, desc)
            yield lkey, lvalue
        if interval is None:
            self.read_set.add_interval(index_id, lo, hi)
        else:
            interval.lo, interval.hi = lo, hi

    def _cover(
        self,
        interval: Any,
        index_id: int,
        lo: bytes,
        hi: bytes | None,
        key: bytes,
        desc: bool,
    ) -> Any:
        """Grow the recorded interval to include everything up to and including `key`."""
        if interval is None:
            if desc:
                return self.read_set.add_interval(index_id, key, hi)
            return self.read_set.add_interval(index_id, lo, key + b"\x00")
        if desc:
            interval.lo = key
        else:
            interval.hi = key + b"\x00"
        return interval

    def table_scan(self, table: str, order: Order = "asc") -> Iterator[dict[str, Any]]:
        """Every document of a table in creation order."""
        return self.index_scan(table, BY_CREATION_TIME, [], order)

    def count(self, table: str) -> int:
        """Number of documents in a table as of the snapshot plus own writes."""
        self._check_open()
        self._count_range()
        meta = self.db.catalog.by_name.get(table)
        if meta is None:
            self.read_set.add_missing_table(table)
            return 0
        by_id = meta.by_id
        self.read_set.add_interval(by_id.index_id, b"", None)
        n = self.db.persistence.count_live(by_id.index_id, self.snapshot_ts)
        for w in self.writes.values():
            if w.table.number == meta.number:
                n += (w.value is not None) - (w.base is not None)
        return n

    # ----- savepoints (nested runQuery/runMutation that may fail) -------------------------

    def savepoint(self) -> Savepoint:
        """Capture buffered writes so a failed sub-transaction can be undone."""
        writes = {
            k: PendingWrite(w.table, w.doc_id, w.base, w.value) for k, w in self.writes.items()
        }
        return Savepoint(writes, self.documents_written, self.bytes_written)

    def rollback_to(self, savepoint: Savepoint) -> None:
        """Undo writes made since the savepoint (reads stay in the read set, conservatively)."""
        self._check_open()
        self.writes = dict(savepoint.writes)
        self.documents_written = savepoint.documents_written
        self.bytes_written = savepoint.bytes_written

    # ----- writes staged whole (import, forwarded commits) -------------------------------

    def stage_insert(self, meta: TableMeta, internal: bytes, doc: dict[str, Any]) -> str:
        """Buffer an insert with a chosen identity (import keeps exported ids); `doc` must
        already carry `_creationTime`. Returns the document's id."""
        doc_id = encode_id(meta.number, internal)
        doc["_id"] = doc_id
        self.writes[internal] = PendingWrite(meta, doc_id, None, doc)
        return doc_id

    def stage_write(
        self,
        meta: TableMeta,
        internal: bytes,
        doc_id: str,
        base: dict[str, Any] | None,
        value: dict[str, Any] | None,
    ) -> None:
        """Buffer a write exactly as another process's transaction made it (replication)."""
        self.writes[internal] = PendingWrite(meta, doc_id, base, value)

    def take_writes(self, other: Transaction) -> None:
        """Carry `other`'s buffered writes into this (newer) transaction: a retried batch of
        blind inserts that read nothing."""
        self.writes = other.writes

    # ----- writes -----------------------------------------------------------------------

    def _creation_time(self) -> float:
        now = time.time_ns() / 1e6
        if now <= self._last_creation_time:
            now = self._last_creation_time + 0.001
        self._last_creation_time = now
        return now

    def insert(self, table: str, value: dict[str, Any]) -> str:
        """Add a document; returns its new id."""
        self._check_open()
        if not isinstance(value, dict):
            raise ConvexValueError(
                f"insert into {table} needs an object, not {type(value).__name__}"
            )
        for f in _SYSTEM_FIELDS:
            if f in value:
                raise ConvexValueError(
                    f"System field `{f}` cannot be set when inserting into {table}"
                )
        meta = self.db.ensure_table(table)
        internal = new_internal_id()
        doc_id = encode_id(meta.number, internal)
        doc = {"_id": doc_id, "_creationTime": self._creation_time()}
        doc.update((k, v) for k, v in value.items() if v is not UNDEFINED)
        self._count_write(validate_document(doc))
        self.writes[internal] = PendingWrite(meta, doc_id, None, doc)
        return doc_id

    def _current(self, doc_id: str, op: str) -> tuple[TableMeta, bytes, dict[str, Any]]:
        """The document a write applies to; remembers its snapshot value as the write's base."""
        meta, internal = self._resolve(doc_id)
        if internal in self.writes:
            current = self.writes[internal].value
        else:
            current = self.get(doc_id)
            if current is not None and meta is not None:
                self.writes[internal] = PendingWrite(meta, doc_id, current, current)
        if current is None or meta is None:
            raise DocumentNotFound(f"{op} on nonexistent document ID {doc_id}")
        return meta, internal, current

    def _stage(self, internal: bytes, value: dict[str, Any] | None) -> None:
        pending = self.writes[internal]
        if pending.base is None and value is None:
            del self.writes[internal]
        else:
            pending.value = value

    def _check_system_fields(self, current: dict[str, Any], new: dict[str, Any], op: str) -> None:
        for f in _SYSTEM_FIELDS:
            if f in new and new[f] is not UNDEFINED and new[f] != current[f]:
                raise ConvexValueError(
                    f"{op} cannot change system field `{f}` of document {current['_id']}"
                )

    def replace(self, doc_id: str, value: dict[str, Any]) -> None:
        """Overwrite a document's user fields, keeping `_id` and `_creationTime`."""
        self._check_open()
        if not isinstance(value, dict):
            raise ConvexValueError(f"replace needs an object, not {type(value).__name__}")
        _, internal, current = self._current(doc_id, "Replace")
        self._check_system_fields(current, value, "replace")
        doc = {k: v for k, v in value.items() if v is not UNDEFINED}
        doc["_id"] = current["_id"]
        doc["_creationTime"] = current["_creationTime"]
        self._count_write(validate_document(doc))
        self._stage(internal, doc)

    def patch(self, doc_id: str, fields: dict[str, Any]) -> None:
        """Shallow-merge fields into a document; UNDEFINED removes a field."""
        self._check_open()
        if not isinstance(fields, dict):
            raise ConvexValueError(f"patch needs an object, not {type(fields).__name__}")
        _, internal, current = self._current(doc_id, "Patch")
        self._check_system_fields(current, fields, "patch")
        doc = dict(current)
        for k, v in fields.items():
            if k in _SYSTEM_FIELDS:
                continue
            if v is UNDEFINED:
                doc.pop(k, None)
            else:
                doc[k] = v
        self._count_write(validate_document(doc))
        self._stage(internal, doc)

    def delete(self, doc_id: str) -> None:
        """Remove a document."""
        self._check_open()
        _, internal, _ = self._current(doc_id, "Delete")
        self._count_write(0)
        self._stage(internal, None)
