"""SQLite persistence (the default): one WAL database file, one writer, a reader per thread."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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
from .sql import (
    count_sql,
    gc_sql,
    get_request_sql,
    get_sql,
    insert_request_sql,
    latest_sql,
    prune_requests_sql,
    scan_sql,
    schema_sql,
    snapshot_sql,
    versions_sql,
)

_SYNC_MODES = {"full": "FULL", "normal": "NORMAL", "off": "OFF", "extra": "EXTRA"}
_SCAN = {(d, b): scan_sql("?", d, b) for d in (False, True) for b in (False, True)}
_GET = get_sql("?")
_COUNT = count_sql("?")
_SNAPSHOT = snapshot_sql("?")
_VERSIONS = {t: versions_sql("?", t) for t in (False, True)}
_LATEST = latest_sql("?")
_INSERT_REQUEST = insert_request_sql("?")
_GET_REQUEST = get_request_sql("?")
_PRUNE_REQUESTS = prune_requests_sql("?")
_INSERT_DOC = "INSERT INTO documents (id, ts, table_num, value) VALUES (?, ?, ?, ?)"
_INSERT_ENTRY = (
    "INSERT INTO index_entries (index_id, key, ts, doc_id, deleted) VALUES (?, ?, ?, ?, ?)"
)
_SET_RETENTION_TS = (
    "INSERT INTO strata_meta (key, value) VALUES ('retention_ts', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_SET_META_TS = (
    "INSERT INTO strata_meta (key, value) VALUES ('meta_ts', ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


class _Connection(sqlite3.Connection):
    """Weak-referenceable, so a reader dies with the thread that opened it."""


def parse_sqlite_url(url: str) -> tuple[Path, str]:
    """`sqlite:///abs/path?synchronous=normal` -> (path, PRAGMA synchronous value)."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or not parts.path:
        raise ValueError(f"Not a sqlite URL: {url!r} (expected sqlite:///absolute/path)")
    mode = parse_qs(parts.query).get("synchronous", ["full"])[0].lower()
    if mode not in _SYNC_MODES:
        raise ValueError(f"Unknown sqlite synchronous mode {mode!r}")
    return Path(parts.path), _SYNC_MODES[mode]


class SqlitePersistence(Persistence):
    """Writer connection guarded by the committer; readers never block it thanks to WAL."""

    def __init__(self, url: str) -> None:
        self.path, self._sync = parse_sqlite_url(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = self._take_committer_lock()
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect()
        self._writer.execute("PRAGMA journal_mode=WAL")
        for stmt in schema_sql("BLOB", "INTEGER", " WITHOUT ROWID"):
            self._writer.execute(stmt)
        # Document versions by commit ts: streaming export's deltas read them in commit order.
        self._writer.execute("CREATE INDEX IF NOT EXISTS documents_ts ON documents (ts)")

    def _take_committer_lock(self) -> int:
        """One committer per file: an OS lock that dies with the process (even on SIGKILL)."""
        fd = os.open(f"{self.path}.committer-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PersistenceLocked(
                f"{self.path} is already open for writing by another Database "
                "(one committer per deployment)"
            ) from None
        return fd

    def _connect(self) -> _Connection:
        conn: _Connection = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=64,
            factory=_Connection,
        )
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute(f"PRAGMA synchronous={self._sync}")
        return conn

    def _reader(self) -> _Connection:
        conn: _Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("database is closed")
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.add(conn)
        return conn

    def load_catalog(self) -> tuple[list[TableRow], list[IndexRow]]:
        conn = self._reader()
        tables = [TableRow(n, name) for n, name in conn.execute("SELECT number, name FROM tables")]
        indexes = [
            IndexRow(i, t, name, tuple(fields.split(",")))
            for i, t, name, fields in conn.execute(
                "SELECT index_id, table_num, name, fields FROM indexes"
            )
        ]
        return tables, indexes

    def max_ts(self) -> int:
        row = (
            self._reader()
            .execute(
                "SELECT MAX(m) FROM (SELECT MAX(ts) AS m FROM documents "
                "UNION ALL SELECT value FROM strata_meta WHERE key IN ('meta_ts', 'retention_ts'))"
            )
            .fetchone()
        )
        return int(row[0] or 0)

    def _write(self, statements: list[tuple[str, list[tuple[object, ...]]]]) -> None:
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in statements:
                if len(rows) == 1:
                    conn.execute(sql, rows[0])
                elif rows:
                    conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def create_table(self, table: TableRow, indexes: list[IndexRow], ts: int) -> None:
        self._write(
            [
                ("INSERT INTO tables (number, name) VALUES (?, ?)", [(table.number, table.name)]),
                (
                    "INSERT INTO indexes (index_id, table_num, name, fields) VALUES (?, ?, ?, ?)",
                    [(i.index_id, i.table_number, i.name, ",".join(i.fields)) for i in indexes],
                ),
                (_SET_META_TS, [(ts,)]),
            ]
        )

    def create_index(self, index: IndexRow, entries: list[IndexEntry], ts: int) -> None:
        self._write(
            [
                (
                    "INSERT INTO indexes (index_id, table_num, name, fields) VALUES (?, ?, ?, ?)",
                    [(index.index_id, index.table_number, index.name, ",".join(index.fields))],
                ),
                (_INSERT_ENTRY, list(entries)),
                (_SET_META_TS, [(ts,)]),
            ]
        )

    def drop_index(self, index_id: int, ts: int) -> None:
        self._write(
            [
                ("DELETE FROM index_entries WHERE index_id = ?", [(index_id,)]),
                ("DELETE FROM indexes WHERE index_id = ?", [(index_id,)]),
                (_SET_META_TS, [(ts,)]),
            ]
        )

    def write_commit(
        self,
        documents: list[DocumentVersion],
        entries: list[IndexEntry],
        tokens: list[tuple[str, int]] | None = None,
        requests: list[RequestRecord] | None = None,
    ) -> None:
        if tokens:
            raise ValueError("Forwarded commits need Postgres: SQLite serves from one process")
        self._write(
            [
                (_INSERT_DOC, list(documents)),
                (_INSERT_ENTRY, list(entries)),
                (_INSERT_REQUEST, list(requests or [])),
            ]
        )

    def mutation_request(self, key: str) -> tuple[int, str] | None:
        row = self._reader().execute(_GET_REQUEST, (key,)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def prune_mutation_requests(self, before_ts: int) -> int:
        """Called under the Database's commit lock (the writer connection is the committer's)."""
        return int(self._writer.execute(_PRUNE_REQUESTS, (before_ts,)).rowcount or 0)

    def get_document(self, internal_id: bytes, ts: int) -> tuple[int, int, bytes | None] | None:
        row = self._reader().execute(_GET, (internal_id, ts)).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def scan_index(
        self, index_id: int, lo: bytes, hi: bytes | None, ts: int, desc: bool, limit: int
    ) -> list[ScanRow]:
        if hi is None:
            params: tuple[object, ...] = (index_id, lo, ts, ts, limit)
        else:
            params = (index_id, lo, hi, ts, ts, limit)
        return self._reader().execute(_SCAN[(desc, hi is not None)], params).fetchall()

    def scan_versions(
        self, index_id: int, lo: bytes, ts: int, limit: int
    ) -> list[tuple[bytes, int, bytes]]:
        return self._reader().execute(_SNAPSHOT, (index_id, lo, ts, ts, limit)).fetchall()

    def document_versions(
        self, after_ts: int, until_ts: int, table_number: int | None, limit: int
    ) -> list[DocumentVersion]:
        by_table = table_number is not None
        params = (after_ts, until_ts, *((table_number,) if by_table else ()), limit)
        return self._reader().execute(_VERSIONS[by_table], params).fetchall()

    def count_live(self, index_id: int, ts: int) -> int:
        return int(self._reader().execute(_COUNT, (index_id, ts, ts)).fetchone()[0])

    def latest_documents(self, by_id_index: int) -> list[tuple[bytes, int, bytes]]:
        return self._reader().execute(_LATEST, (by_id_index,)).fetchall()

    def retention_ts(self) -> int:
        row = (
            self._reader()
            .execute("SELECT value FROM strata_meta WHERE key = 'retention_ts'")
            .fetchone()
        )
        return int(row[0]) if row else 0

    def set_retention_ts(self, cutoff: int) -> None:
        self._write([(_SET_RETENTION_TS, [(cutoff,)])])

    def collect_garbage_chunk(
        self, target: str, scope: tuple[int, ...], cutoff: int, start: bytes, rows: int
    ) -> tuple[int, bytes | None]:
        conn = self._writer
        row = conn.execute(gc_sql("?", target, False)[0], (*scope, start, rows)).fetchone()
        end: bytes | None = None if row is None else row[0]
        if end is not None and end <= start:  # one key has more versions than a chunk
            row = conn.execute(gc_sql("?", target, False)[1], (*scope, start)).fetchone()
            end = None if row is None else row[0]
        _, _, superseded, tombstones = gc_sql("?", target, end is not None)
        bounds = (*scope, start) if end is None else (*scope, start, end)
        deleted = 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            deleted += conn.execute(superseded, (*bounds, cutoff, cutoff)).rowcount
            deleted += conn.execute(tombstones, (*bounds, cutoff)).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return deleted, end

    def close(self) -> None:
        self._closed = True
        with self._readers_lock:
            readers, self._readers = list(self._readers), weakref.WeakSet()
        for conn in readers:
            conn.close()
        self._writer.close()
        os.close(self._lock_fd)
