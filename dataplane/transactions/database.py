"""The Database: one committer per deployment, OCC validation, the in-memory write log.

Commit timestamps are max(time_ns, last_ts + 1) with last_ts read back from storage on open,
so they are strictly increasing across restarts. A reader's snapshot ts is always a fully
persisted commit, so snapshot reads need no storage-level transaction. Concurrent commits are
grouped into one storage transaction; old versions are garbage-collected after a retention
window; the latest versions of hot documents are cached in memory.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson
import structlog

from ..ids import encode_id
from ..storage import (
    DocumentVersion,
    IndexEntry,
    IndexRow,
    Persistence,
    PersistenceLocked,
    RequestRecord,
    TableRow,
    open_persistence,
)
from ..storage.keys import index_key
from ..storage.replication import LogSlice
from ..values import from_json
from .catalog import (
    BUILTIN_INDEXES,
    BY_ID,
    FIRST_USER_TABLE,
    Catalog,
    IndexDefinition,
    TableMeta,
    full_index_fields,
    validate_index_definitions,
    validate_table_name,
)
from .doccache import DocumentCache, Entry
from .errors import (
    DatabaseError,
    DuplicateRequest,
    HistoryCollected,
    OccConflict,
    SchemaError,
    WriteLogTruncated,
)
from .groupcommit import GroupCommitQueue, QueuedCommit
from .limits import (
    DOCUMENT_CACHE_BYTES,
    GC_CHUNK_ROWS,
    GC_INTERVAL_S,
    MAX_TABLES,
    RETENTION_NS,
    WRITE_LOG_CAPACITY,
    WRITE_LOG_MAX_BYTES,
)
from .readset import CommitRecord, DocumentWrite
from .transaction import Transaction, decode_document
from .writeset import commit_record, has_writes, prepare_writes, record_size

if TYPE_CHECKING:
    from ..storage.mysql import MySQLPersistence
    from ..storage.postgres import PostgresPersistence

T = TypeVar("T")
_TOKENS_KEPT = 100_000
CommitListener = Callable[[CommitRecord], None]
log = structlog.get_logger(__name__)


class Forwarder(Protocol):
    """Where a read replica sends its commits and schema changes (the committer process)."""

    def commit(self, txn: Transaction) -> int: ...

    def schema(self, table: str, indexes: list[IndexDefinition] | None) -> None: ...


class Database:
    """Transactional document store over a Persistence backend."""

    def __init__(
        self,
        persistence: Persistence,
        *,
        write_log_capacity: int = WRITE_LOG_CAPACITY,
        gc_interval_s: float = GC_INTERVAL_S,
        cache_bytes: int = DOCUMENT_CACHE_BYTES,
        retention_ns: int = RETENTION_NS,
    ) -> None:
        self.persistence = persistence
        self.retention_ns = retention_ns
        tables, indexes = persistence.load_catalog()
        self.catalog = Catalog.load(tables, indexes)
        self._commit_lock = threading.Lock()
        self._group = GroupCommitQueue(self._commit_batch)
        self._log_lock = threading.Lock()
        self._last_ts = persistence.max_ts()
        self._log: deque[CommitRecord] = deque()
        self._log_sizes: deque[int] = deque()
        self._log_bytes = 0
        self._log_capacity = write_log_capacity
        self._log_floor = self._last_ts  # every commit after this ts is in _log
        self._listeners: list[CommitListener] = []
        self._closed = False
        # Read replica (Postgres, MySQL): commits go to `forwarder`, the log is followed from
        # storage.
        self.replica = not getattr(persistence, "is_writer", True)
        self.forwarder: Forwarder | None = None
        self._follow_lock = threading.Lock()
        self._tokens: OrderedDict[str, int] = OrderedDict()
        self._request_keys: OrderedDict[str, int] = OrderedDict()  # recently committed
        self._min_snapshot_ts = persistence.retention_ts()
        self.cache = DocumentCache(cache_bytes)
        self._stop = threading.Event()
        self._gc_thread: threading.Thread | None = None
        if gc_interval_s > 0:
            self._gc_thread = threading.Thread(
                target=self._gc_loop, args=(gc_interval_s,), name="strata-db-gc", daemon=True
            )
            self._gc_thread.start()

    # ----- timestamps and transactions ------------------------------------------------

    def latest_ts(self) -> int:
        """Timestamp of the newest durable commit; a snapshot here sees everything committed."""
        return self._last_ts

    def _next_ts(self) -> int:
        return max(time.time_ns(), self._last_ts + 1)

    def begin(self, ts: int | None = None) -> Transaction:
        """Start a transaction reading at `ts` (default: the latest commit)."""
        if self._closed:
            raise DatabaseError("Database is closed")
        latest = self._last_ts
        if ts is None:
            ts = latest
        elif not 0 <= ts <= latest:
            raise DatabaseError(f"Cannot read at ts {ts}: the latest commit is {latest}")
        elif ts < self._min_snapshot_ts:
            raise DatabaseError(
                f"Cannot read at ts {ts}: history before {self._min_snapshot_ts} was collected"
            )
        return Transaction(self, ts)

    def run_mutation(
        self, fn: Callable[[Transaction], T], *, max_retries: int = 16
    ) -> tuple[T, int]:
        """Run fn in a fresh transaction and commit, retrying on OCC conflicts."""
        attempt = 0
        while True:
            txn = self.begin()
            result = fn(txn)
            try:
                return result, self.commit(txn)
            except OccConflict:
                attempt += 1
                if attempt > max_retries:
                    raise
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))

    # ----- commit ------------------------------------------------------------------

    def _conflict(self, txn: Transaction, batch: list[CommitRecord]) -> OccConflict | None:
        """The OCC check: did anything committed after the snapshot touch the read set?"""
        if txn.snapshot_ts < self._log_floor:
            return OccConflict(
                "Transaction snapshot is older than the write log; retry at a newer snapshot"
            )
        read_set = txn.read_set
        for record in batch:
            if read_set.overlaps(record):
                return _conflict_error(record.ts)
        for record in reversed(self._log):
            if record.ts <= txn.snapshot_ts:
                break
            if read_set.overlaps(record):
                return _conflict_error(record.ts)
        return None

    def commit(self, txn: Transaction) -> int:
        """Validate and durably apply a transaction; returns its commit ts.

        Concurrent commits are grouped: one storage transaction (one fsync) per batch.
        """
        if txn.finished:
            raise DatabaseError("Transaction already committed or aborted")
        txn.finished = True
        if not has_writes(txn):
            return txn.snapshot_ts
        if self.replica:
            if self.forwarder is None:
                raise DatabaseError("This read replica has no committer to forward writes to")
            return self.forwarder.commit(txn)
        catalog = self.catalog
        docs, entries = prepare_writes(txn, catalog)
        return self._group.submit(QueuedCommit(txn, catalog, docs, entries))

    def _commit_batch(self, batch: list[QueuedCommit]) -> None:
        """Validate each queued transaction in order, then write the survivors atomically."""
        with self._commit_lock:
            self._commit_batch_locked(batch)

    def _commit_batch_locked(self, batch: list[QueuedCommit]) -> None:
        if self._closed:
            for item in batch:
                item.error = DatabaseError("Database is closed")
            return
        accepted: list[QueuedCommit] = []
        records: list[CommitRecord] = []
        sizes: list[int] = []
        all_docs: list[tuple[bytes, int, int, bytes | None]] = []
        all_entries: list[tuple[int, bytes, int, bytes, bool]] = []
        last = self._last_ts
        tokens: list[tuple[str, int]] = []
        requests: list[RequestRecord] = []
        repeats: list[QueuedCommit] = []  # retried forwards: answered with the first ts
        for item in batch:
            if item.token is not None and (
                item.token in self._tokens or any(t == item.token for t, _ in tokens)
            ):
                repeats.append(item)
                continue
            item.error = self._conflict(item.txn, records) or self._duplicate(item.txn, requests)
            if item.error is not None:
                continue
            if item.catalog is not self.catalog:
                try:
                    item.docs, item.entries = prepare_writes(item.txn, self.catalog)
                except DatabaseError as exc:
                    item.error = exc
                    continue
            ts = last = max(time.time_ns(), last + 1)
            all_docs.extend((i, ts, n, v) for i, n, v in item.docs)
            all_entries.extend((x, k, ts, i, d) for x, k, i, d in item.entries)
            records.append(commit_record(ts, item.txn, item.entries))
            if item.token is not None:
                tokens.append((item.token, ts))
            if item.txn.request is not None:
                requests.append((item.txn.request.key, ts, item.txn.request.result_json))
            sizes.append(record_size(item.docs, item.entries))
            accepted.append(item)
        if accepted:
            try:
                self.persistence.write_commit(
                    all_docs, all_entries, tokens or None, requests or None
                )
            except BaseException as exc:
                for item in accepted + repeats:
                    item.error = exc
                if not getattr(self.persistence, "is_writer", True):
                    self._demote()
                return
        for token, ts in tokens:
            self._tokens[token] = ts
        while len(self._tokens) > _TOKENS_KEPT:
            self._tokens.popitem(last=False)
        for key, ts, _ in requests:
            self._request_keys[key] = ts
        while len(self._request_keys) > _TOKENS_KEPT:
            self._request_keys.popitem(last=False)
        for item in repeats:
            item.ts = self._tokens.get(item.token or "")
            if item.ts is None:
                item.error = DatabaseError("A forwarded commit's first attempt was lost")
        if not accepted:
            return
        self._publish(records, sizes, last, all_docs)
        for item, record in zip(accepted, records, strict=True):
            item.ts = record.ts

    def _duplicate(self, txn: Transaction, batch: list[RequestRecord]) -> DuplicateRequest | None:
        """A resent mutation whose request key is already committed (or earlier in the batch)."""
        request = txn.request
        if request is None or not request.check:
            return None
        key = request.key
        if (
            key in self._request_keys
            or any(k == key for k, _, _ in batch)
            or self.persistence.mutation_request(key) is not None
        ):
            return DuplicateRequest(key)
        return None

    def mutation_request(self, key: str) -> tuple[int, str] | None:
        """(commit ts, result JSON) of a committed mutation request (runtime/request_log)."""
        return self.persistence.mutation_request(key)

    def prune_mutation_requests(self, before_ts: int) -> int:
        """Forget request records committed before `before_ts`."""
        if self.replica:
            return 0
        with self._commit_lock:
            keys = self._request_keys
            while keys and next(iter(keys.values())) < before_ts:
                keys.popitem(last=False)
            return self.persistence.prune_mutation_requests(before_ts)

    def commit_forwarded(self, txn: Transaction, token: str) -> int:
        """Commit a replica's transaction exactly once per token (retries return the first ts)."""
        if self.replica:
            raise DatabaseError("This process is not the committer")
        done = self._tokens.get(token)
        if done is None:
            done = self._replication().token_ts(token)
        if done is not None:
            return done
        txn.finished = True
        if not has_writes(txn):
            return txn.snapshot_ts
        catalog = self.catalog
        docs, entries = prepare_writes(txn, catalog)
        return self._group.submit(QueuedCommit(txn, catalog, docs, entries, token=token))

    # ----- read replica --------------------------------------------------------------

    def _replication(self) -> PostgresPersistence | MySQLPersistence:
        from ..storage.mysql import MySQLPersistence
        from ..storage.postgres import PostgresPersistence

        if not isinstance(self.persistence, PostgresPersistence | MySQLPersistence):
            raise DatabaseError(
                "Several processes per deployment need a postgresql:// or mysql:// database"
            )
        return self.persistence

    def follow(self, until: int | None = None) -> int:
        """Replica: apply every commit the committer persisted since latest_ts; returns count.

        One consistent read of the log, so latest_ts only ever lands on a readable prefix.
        `until`: no read when another thread applied that ts while this one waited its turn.
        """
        with self._follow_lock:
            if not self.replica or self._closed:
                return 0
            if until is not None and self._last_ts >= until:
                return 0
            return self._apply_log(self._replication().read_log(self._last_ts))

    def _apply_log(self, log_slice: LogSlice) -> int:
        after = self._last_ts
        self._min_snapshot_ts = max(self._min_snapshot_ts, log_slice.retention_ts)
        if log_slice.catalog is not None:
            self.catalog = Catalog.load(*log_slice.catalog)
        keys: dict[int, dict[int, list[bytes]]] = {}
        for index_id, key, ts in log_slice.entries:
            keys.setdefault(ts, {}).setdefault(index_id, []).append(key)
        docs: dict[int, list[tuple[bytes, int, int, bytes | None]]] = {}
        for doc in log_slice.documents:
            docs.setdefault(doc[1], []).append(doc)
        records: list[CommitRecord] = []
        sizes: list[int] = []
        for ts in sorted(docs):
            writes = tuple(
                DocumentWrite(
                    self.catalog.by_number[table].name,
                    encode_id(table, internal),
                    None if raw is None else decode_document(raw),
                )
                for internal, _, table, raw in docs[ts]
                if table in self.catalog.by_number
            )
            records.append(
                CommitRecord(ts, writes, keys.get(ts, {}), frozenset(w.table for w in writes))
            )
            sizes.append(200 + sum(len(d[3] or b"") * 3 for d in docs[ts]))
        if log_slice.meta_ts > after and log_slice.meta_ts not in docs:
            # Schema changes leave only meta_ts; an empty record keeps the log gap-free.
            tables = frozenset(self.catalog.by_name)
            records.append(CommitRecord(log_slice.meta_ts, (), {}, tables))
            sizes.append(200)
            records.sort(key=lambda r: r.ts)
        if not records:
            return 0
        self._publish(records, sizes, records[-1].ts, log_slice.documents)
        return len(records)

    def try_take_committer_lock(self) -> bool:
        """Replica: take the committer lock if its holder is gone (then call promote())."""
        return self._replication().try_become_writer()

    def committer_url(self) -> str | None:
        """Where the current committer process accepts forwarded commits."""
        return self._replication().committer_url()

    def set_committer_url(self, url: str) -> None:
        """Committer: announce where replicas forward commits to."""
        with self._commit_lock:  # the writer connection serves one statement at a time
            self._replication().set_committer_url(url)

    def check_committer(self) -> None:
        """Committer: become a replica if the committer lock was lost (its session died)."""
        with self._commit_lock:
            if not (self.replica or self._closed or self._replication().writer_alive()):
                self._demote()

    def _demote(self) -> None:
        log.warning("lost the committer lock; serving as a read replica", latest_ts=self._last_ts)
        self.replica = True

    def promote(self) -> None:
        """Replica -> committer, once this process holds the committer lock."""
        with self._commit_lock:
            self.follow()  # nobody else writes now: this catches up with every commit
            with self._log_lock:
                self._last_ts = max(self._last_ts, self.persistence.max_ts())
            self._min_snapshot_ts = self.persistence.retention_ts()
            self.replica = False

    def cache_fill(self, internal: bytes, entry: Entry, snapshot_ts: int) -> None:
        """Cache a version read from storage, if it is certainly the newest one."""
        with self._log_lock:
            if snapshot_ts == self._last_ts:
                self.cache.put(internal, entry)

    def _publish(
        self,
        records: list[CommitRecord],
        sizes: list[int],
        last_ts: int,
        docs: Sequence[tuple[bytes, int, int, bytes | None]] = (),
    ) -> None:
        """Make durable commits visible: log and latest_ts move together, then listeners run.

        Whoever sees latest_ts() == T finds every commit <= T in commits_since().
        """
        with self._log_lock:
            for internal, ts, table_number, raw in docs:
                self.cache.put(internal, (table_number, ts, raw))
            for record, size in zip(records, sizes, strict=True):
                self._log.append(record)
                self._log_sizes.append(size)
                self._log_bytes += size
            while len(self._log) > self._log_capacity or (
                self._log_bytes > WRITE_LOG_MAX_BYTES and len(self._log) > 1
            ):
                self._log_floor = self._log.popleft().ts
                self._log_bytes -= self._log_sizes.popleft()
            self._last_ts = last_ts
        for record in records:
            for listener in list(self._listeners):
                try:
                    listener(record)
                except Exception:
                    log.exception("commit listener failed", ts=record.ts)

    def _publish_schema_change(self, ts: int, table: str) -> None:
        """Schema changes take a ts too; an empty record keeps the log gap-free."""
        self._publish([CommitRecord(ts, (), {}, frozenset({table}))], [200], ts)

    # ----- write log -----------------------------------------------------------------

    def add_commit_listener(self, cb: CommitListener) -> None:
        """Call cb(record) after every commit, in commit order, under the committer lock."""
        self._listeners.append(cb)

    def remove_commit_listener(self, cb: CommitListener) -> None:
        self._listeners.remove(cb)

    def commits_since(self, ts: int) -> list[CommitRecord]:
        """Commits with ts greater than `ts`, oldest first."""
        with self._log_lock:
            if ts < self._log_floor:
                raise WriteLogTruncated(
                    f"Commits after ts {ts} are no longer in the write log "
                    f"(it starts after {self._log_floor})"
                )
            out = []
            for record in reversed(self._log):
                if record.ts <= ts:
                    break
                out.append(record)
        out.reverse()
        return out

    # ----- whole-table reads (exports, search indexes, usage) --------------------------

    def scan_table(self, table: str, ts: int, page_rows: int = 1000) -> Iterator[dict[str, Any]]:
        """Every document of `table` at `ts` in id order, fetched `page_rows` at a time and
        outside per-function read limits (a missing table has none)."""
        meta = self.catalog.by_name.get(table)
        if meta is None or BY_ID not in meta.indexes:
            return
        index_id = meta.indexes[BY_ID].index_id
        lo = b""
        while True:
            rows = self.persistence.scan_index(index_id, lo, None, ts, False, page_rows)
            for _, raw in rows:
                yield decode_document(raw)
            if len(rows) < page_rows:
                return
            lo = rows[-1][0] + b"\x00"

    def snapshot_page(
        self, table: str, ts: int, after: bytes | None, limit: int
    ) -> tuple[list[tuple[bytes, int, dict[str, Any]]], bool]:
        """Up to `limit` documents of `table` at `ts` in id order, after by_id key `after`.

        Returns ([(by_id key, version ts, document)], whether the table is exhausted); resume
        after the last key. Raises HistoryCollected when `ts` is no longer readable (checked
        after the read too, so a concurrent collection cannot tear a page).
        """
        self._check_retained(ts, "snapshot")
        meta = self.catalog.by_name.get(table)
        if meta is None or BY_ID not in meta.indexes:
            return [], True
        lo = b"" if after is None else after + b"\x00"
        rows = self.persistence.scan_versions(meta.indexes[BY_ID].index_id, lo, ts, limit)
        self._check_retained(ts, "snapshot")
        page = [(key, version_ts, decode_document(raw)) for key, version_ts, raw in rows]
        return page, len(rows) < limit

    def document_changes(
        self, after_ts: int, table: str | None, limit: int, max_bytes: int = 8 << 20
    ) -> tuple[list[tuple[int, str, str, dict[str, Any] | None]], int, bool]:
        """Document writes committed after `after_ts`, in commit order, whole commits at a time.

        Returns ([(ts, table, id, new document or None for a delete)], cursor, has_more): the
        cursor is the ts to pass next time. User tables only (or just `table`). A call stops
        after about `limit` versions or `max_bytes` of documents, at a commit boundary (one
        commit larger than that comes whole). Raises HistoryCollected when changes after
        `after_ts` may have been garbage-collected.
        """
        until = self._last_ts
        self._check_retained(after_ts, "cursor")
        number: int | None = None
        if table is not None:
            meta = self.catalog.by_name.get(table)
            if meta is None:
                return [], until, False
            number = meta.number
        rows: list[DocumentVersion] = []
        size = 0
        cursor = after_ts
        chunk = min(limit, 16)
        while True:
            got = self.persistence.document_versions(cursor, until, number, chunk)
            complete = len(got) < chunk  # everything up to `until`
            if not complete:
                last = got[-1][1]
                if got[0][1] == last:  # one commit fills the chunk: take all of it
                    got = self.persistence.document_versions(last - 1, last, number, 1 << 62)
                else:
                    got = [r for r in got if r[1] != last]
            for i, row in enumerate(got):
                size += len(row[3] or b"")
                ends_commit = i + 1 == len(got) or got[i + 1][1] != row[1]
                if ends_commit and (len(rows) + i + 1 >= limit or size >= max_bytes):
                    rows += got[: i + 1]
                    return self._changes(rows, after_ts), row[1], True
            rows += got
            if complete:
                return self._changes(rows, after_ts), until, False
            cursor = got[-1][1]
            average = max(1, size // len(rows))
            chunk = max(2, min(limit - len(rows) + 1, (max_bytes - size) // average))

    def _changes(
        self, rows: list[DocumentVersion], after_ts: int
    ) -> list[tuple[int, str, str, dict[str, Any] | None]]:
        """Decoded user-table changes of `rows`, if no history after `after_ts` was collected
        while they were read."""
        self._check_retained(after_ts, "cursor")
        by_number = self.catalog.by_number
        out: list[tuple[int, str, str, dict[str, Any] | None]] = []
        for internal, ts, table_number, raw in rows:
            meta = by_number.get(table_number)
            if meta is None or meta.name.rpartition("/")[2].startswith("_"):
                continue  # system tables, a component's own `_storage` included
            doc = None if raw is None else decode_document(raw)
            out.append((ts, meta.name, encode_id(table_number, internal), doc))
        return out

    def _check_retained(self, ts: int, what: str) -> None:
        if not 0 <= ts <= self._last_ts:
            raise DatabaseError(f"Invalid {what} {ts}: the latest commit is {self._last_ts}")
        retained = max(self._min_snapshot_ts, self.persistence.retention_ts())
        if ts < retained:
            raise HistoryCollected(
                f"The {what} {ts} is older than the retained history (it starts at "
                f"{retained}): start over from a new snapshot"
            )

    def latest_documents(self, table: str) -> Iterator[dict[str, Any]]:
        """The newest version of every live document of `table`, read from storage directly."""
        meta = self.catalog.by_name.get(table)
        if meta is None:
            return
        for _, _, raw in self.persistence.latest_documents(meta.by_id.index_id):
            yield orjson.loads(raw)

    def document_exists(self, internal_id: bytes, ts: int) -> bool:
        """Whether a live document holds `internal_id` at `ts` (in any table)."""
        found = self.persistence.get_document(internal_id, ts)
        return found is not None and found[2] is not None

    def retention_ts(self) -> int:
        """Snapshots older than this may have lost versions to history collection."""
        return self.persistence.retention_ts()

    def durable_ts(self) -> int:
        """The newest commit in storage (on a replica: what the committer has persisted)."""
        return self.persistence.max_ts()

    # ----- tables and indexes ----------------------------------------------------------

    def table_names(self) -> list[str]:
        return sorted(self.catalog.by_name)

    def ensure_table(self, name: str, *, number: int | None = None) -> TableMeta:
        """The table, created with its built-in indexes on first use.

        `number`: create it under that table number when it is free and in the right range
        (imports keep a snapshot's numbers, which its document ids encode); else the next."""
        meta = self.catalog.by_name.get(name)
        if meta is not None:
            return meta
        validate_table_name(name)
        if self.replica and self.forwarder is not None:
            self.forwarder.schema(name, None)
            return self.catalog.by_name[name]
        with self._commit_lock:
            return self._create_table_locked(name, number)

    def _number_fits(self, name: str, number: int | None) -> bool:
        if number is None or number < 1 or number in self.catalog.by_number:
            return False
        return name.startswith("_") == (number < FIRST_USER_TABLE)

    def _create_table_locked(self, name: str, preferred: int | None = None) -> TableMeta:
        meta = self.catalog.by_name.get(name)
        if meta is not None:
            return meta
        if len(self.catalog.by_name) >= MAX_TABLES:
            raise SchemaError(f"Cannot create table {name}: the limit is {MAX_TABLES} tables")
        if preferred is not None and self._number_fits(name, preferred):
            number = preferred
        else:
            number = self.catalog.next_table_number(system=name.startswith("_"))
            if name.startswith("_") == (number >= FIRST_USER_TABLE):
                raise SchemaError("Too many system tables")
        first = self.catalog.next_index_id
        indexes = {
            index_name: IndexRow(first + i, number, index_name, fields)
            for i, (index_name, fields) in enumerate(BUILTIN_INDEXES.items())
        }
        ts = self._next_ts()
        self.persistence.create_table(TableRow(number, name), list(indexes.values()), ts)
        meta = TableMeta(number, name, indexes)
        self.catalog = self.catalog.with_table(meta, first + len(indexes))
        self._publish_schema_change(ts, name)
        return meta

    def _create_index_locked(
        self, meta: TableMeta, name: str, fields: tuple[str, ...]
    ) -> TableMeta:
        index = IndexRow(self.catalog.next_index_id, meta.number, name, fields)
        entries: list[IndexEntry] = []
        for internal, doc_ts, raw in self._live_documents(meta):
            doc: dict[str, Any] = from_json(orjson.loads(raw))
            key = index_key(doc, fields, bytes(internal))
            entries.append((index.index_id, key, doc_ts, bytes(internal), False))
        ts = self._next_ts()
        self.persistence.create_index(index, entries, ts)
        meta = TableMeta(meta.number, meta.name, {**meta.indexes, name: index})
        self.catalog = self.catalog.with_table(meta, index.index_id + 1)
        self._publish_schema_change(ts, meta.name)
        return meta

    def _live_documents(self, meta: TableMeta) -> list[tuple[bytes, int, bytes]]:
        by_id = meta.indexes.get(BY_ID)
        return [] if by_id is None else self.persistence.latest_documents(by_id.index_id)

    def indexes(self, table: str) -> list[IndexDefinition]:
        """User-defined indexes of a table (without the implicit `_creationTime`)."""
        meta = self.catalog.by_name.get(table)
        return [] if meta is None else meta.user_indexes()

    def set_indexes(self, table: str, definitions: list[IndexDefinition]) -> None:
        """Make the table's user indexes exactly `definitions`: backfill new, drop removed."""
        validate_table_name(table)
        validate_index_definitions(table, definitions)
        if self.replica and self.forwarder is not None:
            self.forwarder.schema(table, definitions)
            return
        with self._commit_lock:
            meta = self._create_table_locked(table)
            wanted = {d.name: full_index_fields(d) for d in definitions}
            for name, index in list(meta.indexes.items()):
                if name in BUILTIN_INDEXES or wanted.get(name) == index.fields:
                    continue
                ts = self._next_ts()
                self.persistence.drop_index(index.index_id, ts)
                meta = TableMeta(
                    meta.number, meta.name, {k: v for k, v in meta.indexes.items() if k != name}
                )
                self.catalog = self.catalog.with_table(meta)
                self._publish_schema_change(ts, table)
            for name, fields in wanted.items():
                if name not in meta.indexes:
                    meta = self._create_index_locked(meta, name, fields)

    # ----- history retention -----------------------------------------------------------

    def collect_garbage(
        self, retention_ns: int | None = None, *, chunk_rows: int = GC_CHUNK_ROWS
    ) -> int:
        """Delete document and index versions older than the retention window (default: the
        database's `retention_ns`).

        Without this, every update of a hot document leaves a version that later scans step
        over. Snapshots older than `latest_ts - retention_ns` become unreadable.
        """
        with self._commit_lock:
            if self._closed:
                return 0
            if self.replica:
                return 0  # the committer collects history
            cutoff = self._last_ts - (self.retention_ns if retention_ns is None else retention_ns)
            if cutoff <= self._min_snapshot_ts:
                return 0
            self._min_snapshot_ts = cutoff
            self.persistence.set_retention_ts(cutoff)
            self.persistence.prune_commit_tokens(cutoff)
            scopes: list[tuple[str, tuple[int, ...]]] = [
                ("index", (index.index_id,))
                for meta in self.catalog.by_name.values()
                for index in meta.indexes.values()
            ]
        scopes.append(("documents", ()))
        deleted = 0
        for target, scope in scopes:
            start: bytes | None = b""
            while start is not None:
                # Small chunks, each under the committer lock, so commits interleave with GC.
                with self._commit_lock:
                    if self._closed:
                        return deleted
                    n, start = self.persistence.collect_garbage_chunk(
                        target, scope, cutoff, start, chunk_rows
                    )
                deleted += n
        return deleted

    def _gc_loop(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                deleted = self.collect_garbage()
                if deleted:
                    log.info("collected old versions", rows=deleted)
            except Exception:
                log.exception("history garbage collection failed")

    # ----- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        self._stop.set()
        if self._gc_thread is not None and self._gc_thread is not threading.current_thread():
            self._gc_thread.join(timeout=60)
        with self._commit_lock:
            if self._closed:
                return
            self._closed = True
        self.persistence.close()


def _conflict_error(ts: int) -> OccConflict:
    return OccConflict(
        "Documents read from or written to this transaction changed while it was "
        f"running (conflicting commit at ts {ts}); it will be retried"
    )


def open_database(
    url: str,
    *,
    write_log_capacity: int = WRITE_LOG_CAPACITY,
    gc_interval_s: float = GC_INTERVAL_S,
    cache_bytes: int = DOCUMENT_CACHE_BYTES,
    role: str = "committer",
    retention_ns: int = RETENTION_NS,
) -> Database:
    """Open (creating if needed) the database at a sqlite:///, postgresql:// or mysql:// URL.

    role "committer" takes the writer lock or fails; "auto" falls back to a read replica when
    another process holds it; "replica" never tries (Postgres or MySQL for both).
    """
    if role not in ("committer", "auto", "replica"):
        raise DatabaseError(f"Unknown role {role!r}: use committer, auto or replica")
    persistence: Persistence
    try:
        if role == "committer":
            persistence = open_persistence(url)
        else:
            if url.startswith("mysql:"):
                from ..storage.mysql import MySQLPersistence

                persistence = MySQLPersistence(url, writer=False)
            elif url.startswith(("postgresql:", "postgres:")):
                from ..storage.postgres import PostgresPersistence

                persistence = PostgresPersistence(url, writer=False)
            else:
                raise DatabaseError(
                    f"Role {role!r} needs a postgresql:// or mysql:// database: a SQLite "
                    "deployment is served by exactly one process"
                )
            if role == "auto":
                persistence.try_become_writer()
    except PersistenceLocked as exc:
        raise DatabaseError(str(exc)) from exc
    return Database(
        persistence,
        write_log_capacity=write_log_capacity,
        gc_interval_s=gc_interval_s,
        cache_bytes=cache_bytes,
        retention_ns=retention_ns,
    )
