"""Postgres persistence (psycopg 3): pooled autocommit readers plus one writer connection."""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

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
from .replication import LogSlice
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

_SCAN = {(d, b): scan_sql("%s", d, b) for d in (False, True) for b in (False, True)}
_GET = get_sql("%s")
_COUNT = count_sql("%s")
_SNAPSHOT = snapshot_sql("%s")
_VERSIONS = {t: versions_sql("%s", t) for t in (False, True)}
_LATEST = latest_sql("%s")
_INSERT_DOC = "INSERT INTO documents (id, ts, table_num, value) VALUES (%s, %s, %s, %s)"
_INSERT_ENTRY = (
    "INSERT INTO index_entries (index_id, key, ts, doc_id, deleted) VALUES (%s, %s, %s, %s, %s)"
)
_SET_RETENTION_TS = (
    "INSERT INTO strata_meta (key, value) VALUES ('retention_ts', %s) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_SET_META_TS = (
    "INSERT INTO strata_meta (key, value) VALUES ('meta_ts', %s) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
# Serialises schema creation when several processes open the same database at once.
_SCHEMA_LOCK_KEY = 0x5354524154410001
# Held for the writer connection's lifetime: one committer per database.
_COMMITTER_LOCK_KEY = 0x5354524154410002
# Replicas tail the log by ts; forwarded commits leave an idempotency token.
_REPLICATION_DDL = (
    "CREATE INDEX IF NOT EXISTS documents_ts ON documents (ts)",
    "CREATE INDEX IF NOT EXISTS index_entries_ts ON index_entries (ts)",
    "CREATE TABLE IF NOT EXISTS strata_commit_tokens (token TEXT PRIMARY KEY, ts BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS strata_committer (id INTEGER PRIMARY KEY, url TEXT NOT NULL)",
)
_INSERT_TOKEN = "INSERT INTO strata_commit_tokens (token, ts) VALUES (%s, %s)"
_INSERT_REQUEST = insert_request_sql("%s")
_GET_REQUEST = get_request_sql("%s")
_PRUNE_REQUESTS = prune_requests_sql("%s")
# A killed previous committer's backend may need a moment to notice and release its lock.
_LOCK_WAIT_S = 3.0


# Rows per multi-row INSERT: few protocol messages per commit, few distinct prepared statements.
_ROWS_PER_INSERT = 64


@functools.lru_cache(maxsize=512)
def _multi_row(sql: str, rows: int) -> str:
    """`INSERT ... VALUES (%s, ...)` widened to `rows` value tuples, with numbered `$n`
    placeholders: commits go through a RawCursor, so psycopg never re-parses the query
    (it only caches that for queries of at most 50 parameters)."""
    head, sep, values = sql.partition(" VALUES ")
    if sep and rows > 1:
        sql = f"{head} VALUES " + ", ".join([values] * rows)
    parts = sql.split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


@functools.lru_cache(maxsize=512)
def _combined_insert(shape: tuple[tuple[str, int], ...]) -> str:
    """Several multi-row INSERTs as one statement: all but the last in a WITH clause."""
    parts = []
    for sql, rows in shape:
        head, _, values = sql.partition(" VALUES ")
        parts.append(f"{head} VALUES " + ", ".join([values] * rows))
    *ctes, main = parts
    text = main
    if ctes:
        text = "WITH " + ", ".join(f"w{i} AS ({c})" for i, c in enumerate(ctes)) + " " + main
    pieces = text.split("%s")
    return "".join(f"{p}${i}" for i, p in enumerate(pieces[:-1], 1)) + pieces[-1]


class PostgresPersistence(Persistence):
    """Readers take a pooled connection per statement, so a lazy scan never pins one."""

    def __init__(self, url: str, *, pool_size: int = 8, writer: bool = True) -> None:
        self._url = url
        self._writer: psycopg.Connection[Any] | None = None
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            for stmt in [*schema_sql("BYTEA", "BIGINT"), *_REPLICATION_DDL]:
                conn.execute(stmt)
        if writer:
            self._writer = self._connect_writer()
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "prepare_threshold": 1},
            open=True,
        )

    @property
    def is_writer(self) -> bool:
        return self._writer is not None

    def try_become_writer(self) -> bool:
        """Take the committer lock if it is free right now (a replica's takeover attempt)."""
        if self._writer is None:
            try:
                self._writer = self._connect_writer(wait_s=0.0)
            except PersistenceLocked:
                return False
        return True

    def writer_alive(self) -> bool:
        """Whether this process still holds the committer lock (its connection still works)."""
        conn = self._writer
        if conn is None:
            return False
        try:
            conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            if conn.closed or conn.broken:
                self._writer = None  # the server dropped the session, and with it the lock
                conn.close()
                return False
            return True

    def _connect_writer(self, wait_s: float = _LOCK_WAIT_S) -> psycopg.Connection[Any]:
        """Connect and take the committer lock, waiting briefly for a dead holder to go away."""
        conn = psycopg.connect(self._url, autocommit=True, prepare_threshold=1)
        deadline = time.monotonic() + wait_s
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (_COMMITTER_LOCK_KEY,)).fetchone()
            if (row and row[0]) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not row or not row[0]:
            conn.close()
            raise PersistenceLocked(
                "This Postgres database is already open for writing by another Database "
                "(one committer per deployment)"
            )
        return conn

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def load_catalog(self) -> tuple[list[TableRow], list[IndexRow]]:
        tables = [
            TableRow(n, name) for n, name in self._query("SELECT number, name FROM tables", ())
        ]
        indexes = [
            IndexRow(i, t, name, tuple(fields.split(",")))
            for i, t, name, fields in self._query(
                "SELECT index_id, table_num, name, fields FROM indexes", ()
            )
        ]
        return tables, indexes

    def max_ts(self) -> int:
        rows = self._query(
            "SELECT MAX(m) FROM (SELECT MAX(ts) AS m FROM documents "
            "UNION ALL SELECT value FROM strata_meta "
            "WHERE key IN ('meta_ts', 'retention_ts')) AS t",
            (),
        )
        return int(rows[0][0] or 0)

    def _writer_conn(self) -> psycopg.Connection[Any]:
        if self._writer is None:
            raise PersistenceLocked("This process is a read replica; the committer writes")
        return self._writer

    def _write(self, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """One transaction in one pipelined round trip: BEGIN, the inserts, COMMIT."""
        conn = self._writer_conn()
        try:
            with conn.pipeline(), psycopg.RawCursor(conn) as cur:
                cur.execute("BEGIN")
                for sql, rows in statements:
                    for start in range(0, len(rows), _ROWS_PER_INSERT):
                        chunk = rows[start : start + _ROWS_PER_INSERT]
                        cur.execute(_multi_row(sql, len(chunk)), [v for r in chunk for v in r])
                cur.execute("COMMIT")
        except psycopg.Error:
            if conn.closed or conn.broken:
                # A broken writer connection is replaced; the failed commit is reported. If
                # another process took the committer lock meanwhile, this one no longer writes.
                self._writer = None
                self._writer = self._connect_writer()
            else:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
            raise

    def create_table(self, table: TableRow, indexes: list[IndexRow], ts: int) -> None:
        self._write(
            [
                ("INSERT INTO tables (number, name) VALUES (%s, %s)", [(table.number, table.name)]),
                (
                    "INSERT INTO indexes (index_id, table_num, name, fields) "
                    "VALUES (%s, %s, %s, %s)",
                    [(i.index_id, i.table_number, i.name, ",".join(i.fields)) for i in indexes],
                ),
                (_SET_META_TS, [(ts,)]),
            ]
        )

    def create_index(self, index: IndexRow, entries: list[IndexEntry], ts: int) -> None:
        self._write(
            [
                (
                    "INSERT INTO indexes (index_id, table_num, name, fields) "
                    "VALUES (%s, %s, %s, %s)",
                    [(index.index_id, index.table_number, index.name, ",".join(index.fields))],
                ),
                (_INSERT_ENTRY, [(i, k, t, d, int(x)) for i, k, t, d, x in entries]),
                (_SET_META_TS, [(ts,)]),
            ]
        )

    def drop_index(self, index_id: int, ts: int) -> None:
        self._write(
            [
                ("DELETE FROM index_entries WHERE index_id = %s", [(index_id,)]),
                ("DELETE FROM indexes WHERE index_id = %s", [(index_id,)]),
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
        statements: list[tuple[str, list[tuple[Any, ...]]]] = [
            (_INSERT_DOC, list(documents)),
            (_INSERT_ENTRY, [(i, k, t, d, int(x)) for i, k, t, d, x in entries]),
            (_INSERT_TOKEN, list(tokens or [])),
            (_INSERT_REQUEST, list(requests or [])),
        ]
        if all(len(rows) <= _ROWS_PER_INSERT for _, rows in statements):
            self._write_one_statement([(sql, rows) for sql, rows in statements if rows])
        else:
            self._write(statements)

    def _write_one_statement(self, inserts: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """A commit of ordinary size as one autocommit statement (writable CTEs): one round
        trip and far less client work than a pipelined BEGIN/INSERT.../COMMIT."""
        if not inserts:
            return
        shape = tuple((sql, len(rows)) for sql, rows in inserts)
        conn = self._writer_conn()
        try:
            with psycopg.RawCursor(conn) as cur:
                cur.execute(
                    _combined_insert(shape), [v for _, rows in inserts for r in rows for v in r]
                )
        except psycopg.Error:
            if conn.closed or conn.broken:
                self._writer = None
                self._writer = self._connect_writer()
            raise

    def mutation_request(self, key: str) -> tuple[int, str] | None:
        rows = self._query(_GET_REQUEST, (key,))
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def prune_mutation_requests(self, before_ts: int) -> int:
        with self._pool.connection() as conn:
            return int(conn.execute(_PRUNE_REQUESTS, (before_ts,)).rowcount or 0)

    def prune_commit_tokens(self, before_ts: int) -> int:
        """Replicas retry a forward for seconds, not minutes: older tokens are dead weight."""
        with self._pool.connection() as conn:
            cur = conn.execute("DELETE FROM strata_commit_tokens WHERE ts < %s", (before_ts,))
            return int(cur.rowcount or 0)

    def token_ts(self, token: str) -> int | None:
        """Commit ts of a forwarded commit already applied under this token, if any."""
        rows = self._query("SELECT ts FROM strata_commit_tokens WHERE token = %s", (token,))
        return int(rows[0][0]) if rows else None

    def set_committer_url(self, url: str) -> None:
        self._writer_conn().execute(
            "INSERT INTO strata_committer (id, url) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET url = excluded.url",
            (url,),
        )

    def committer_url(self) -> str | None:
        rows = self._query("SELECT url FROM strata_committer WHERE id = 1", ())
        return str(rows[0][0]) if rows else None

    def read_log(self, after: int) -> LogSlice:
        """Every commit after `after` from one consistent snapshot (commits land in ts order)."""
        with self._pool.connection() as conn:
            # Pooled autocommit connection: an explicit snapshot transaction around the reads.
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                return self._read_log(conn, after)
            finally:
                conn.execute("COMMIT")

    def _read_log(self, conn: psycopg.Connection[Any], after: int) -> LogSlice:
        docs = conn.execute(
            "SELECT id, ts, table_num, value FROM documents WHERE ts > %s ORDER BY ts",
            (after,),
        ).fetchall()
        entries = conn.execute(
            "SELECT index_id, key, ts FROM index_entries WHERE ts > %s", (after,)
        ).fetchall()
        meta = dict(conn.execute("SELECT key, value FROM strata_meta").fetchall())
        meta_ts = int(meta.get("meta_ts", 0))
        catalog = None
        if meta_ts > after:
            tables = conn.execute("SELECT number, name FROM tables").fetchall()
            indexes = conn.execute(
                "SELECT index_id, table_num, name, fields FROM indexes"
            ).fetchall()
            catalog = (
                [TableRow(n, name) for n, name in tables],
                [IndexRow(i, t, name, tuple(f.split(","))) for i, t, name, f in indexes],
            )
        return LogSlice(
            [(bytes(i), int(t), int(n), None if v is None else bytes(v)) for i, t, n, v in docs],
            [(int(x), bytes(k), int(t)) for x, k, t in entries],
            meta_ts,
            catalog,
            int(meta.get("retention_ts", 0)),
        )

    def get_document(self, internal_id: bytes, ts: int) -> tuple[int, int, bytes | None] | None:
        rows = self._query(_GET, (internal_id, ts))
        return None if not rows else (rows[0][0], rows[0][1], rows[0][2])

    def scan_index(
        self, index_id: int, lo: bytes, hi: bytes | None, ts: int, desc: bool, limit: int
    ) -> list[ScanRow]:
        if hi is None:
            params: tuple[Any, ...] = (index_id, lo, ts, ts, limit)
        else:
            params = (index_id, lo, hi, ts, ts, limit)
        return [(bytes(k), bytes(v)) for k, v in self._query(_SCAN[(desc, hi is not None)], params)]

    def scan_versions(
        self, index_id: int, lo: bytes, ts: int, limit: int
    ) -> list[tuple[bytes, int, bytes]]:
        rows = self._query(_SNAPSHOT, (index_id, lo, ts, ts, limit))
        return [(bytes(k), int(t), bytes(v)) for k, t, v in rows]

    def document_versions(
        self, after_ts: int, until_ts: int, table_number: int | None, limit: int
    ) -> list[DocumentVersion]:
        by_table = table_number is not None
        params = (after_ts, until_ts, *((table_number,) if by_table else ()), limit)
        return [
            (bytes(i), int(t), int(n), None if v is None else bytes(v))
            for i, t, n, v in self._query(_VERSIONS[by_table], params)
        ]

    def count_live(self, index_id: int, ts: int) -> int:
        return int(self._query(_COUNT, (index_id, ts, ts))[0][0])

    def latest_documents(self, by_id_index: int) -> list[tuple[bytes, int, bytes]]:
        return [(bytes(i), t, bytes(v)) for i, t, v in self._query(_LATEST, (by_id_index,))]

    def retention_ts(self) -> int:
        rows = self._query("SELECT value FROM strata_meta WHERE key = 'retention_ts'", ())
        return int(rows[0][0]) if rows else 0

    def set_retention_ts(self, cutoff: int) -> None:
        self._write([(_SET_RETENTION_TS, [(cutoff,)])])

    def collect_garbage_chunk(
        self, target: str, scope: tuple[int, ...], cutoff: int, start: bytes, rows: int
    ) -> tuple[int, bytes | None]:
        conn = self._writer_conn()
        row = conn.execute(gc_sql("%s", target, False)[0], (*scope, start, rows)).fetchone()
        end: bytes | None = None if row is None else bytes(row[0])
        if end is not None and end <= start:  # one key has more versions than a chunk
            row = conn.execute(gc_sql("%s", target, False)[1], (*scope, start)).fetchone()
            end = None if row is None else bytes(row[0])
        _, _, superseded, tombstones = gc_sql("%s", target, end is not None)
        bounds = (*scope, start) if end is None else (*scope, start, end)
        deleted = 0
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(superseded, (*bounds, cutoff, cutoff))
            deleted += max(cur.rowcount, 0)
            cur.execute(tombstones, (*bounds, cutoff))
            deleted += max(cur.rowcount, 0)
        return deleted, end

    def close(self) -> None:
        self._pool.close()
        writer = self._writer
        if writer is None:
            return
        if not writer.closed and not writer.broken:
            # Unlock explicitly: the server frees session locks only once its backend exits,
            # which can lag behind the client closing the socket.
            with contextlib.suppress(psycopg.Error):
                writer.execute("SELECT pg_advisory_unlock(%s)", (_COMMITTER_LOCK_KEY,))
        writer.close()
