"""MySQL persistence (PyMySQL): pooled autocommit readers plus one writer connection.

Written to MySQL 8 semantics and tested against MariaDB (10.11, Debian's server). Where the two
differ in ways this backend touches, it uses the form both accept:

- Deleting from a table with a subquery on the same table (`DELETE ... WHERE EXISTS (SELECT ...
  FROM same_table)`) is error 1093 on MySQL 8 but allowed by MariaDB: garbage collection uses a
  multi-table `DELETE o FROM t o JOIN t n ...` instead, which both accept.
- Upserts: MySQL 8.0.20+ prefers the `AS new` row alias and deprecates `VALUES(col)` in
  `ON DUPLICATE KEY UPDATE`; MariaDB has no row alias. `VALUES(col)` works on both.
- `CREATE INDEX IF NOT EXISTS` exists only in MariaDB: every index is declared inside
  `CREATE TABLE IF NOT EXISTS`.
- Default collations differ (MySQL 8 utf8mb4_0900_ai_ci, MariaDB utf8mb4_general_ci), and both
  are case-insensitive; even utf8mb4_bin ignores trailing spaces (PAD SPACE). Every table
  defaults to utf8mb4_bin (names are validated identifiers), and index keys, document ids,
  mutation request keys and commit tokens are VARBINARY, whose comparisons are bytewise with
  every byte significant on both servers, as on SQLite and Postgres.
- The isolation variable is `transaction_isolation` on MySQL 8 and `tx_isolation` on older
  MariaDB: the session sets `SET SESSION TRANSACTION ISOLATION LEVEL`, accepted by both.
- MySQL 8 authenticates with caching_sha2_password by default: PyMySQL does the RSA exchange
  over plain TCP with `cryptography` (pinned in runtime.txt); MariaDB uses mysql_native_password.
- max_allowed_packet is 64 MiB on MySQL 8 but 16 MiB on MariaDB: multi-row inserts are cut at
  `_MAX_STATEMENT_BYTES`, well under both.
- GET_LOCK is server-wide on both (not per database), with 64-character names: the lock names
  carry the database name (hashed when long).
- Index keys are VARBINARY(3000) in a primary key (InnoDB's 3072-byte key limit with the
  DYNAMIC row format, the default on both), comparable to Postgres' btree entry limit: a longer
  key fails its commit.
- Default sql_mode differs (MySQL 8 adds ONLY_FULL_GROUP_BY and more; operators change it): each
  session sets its own (strict, so nothing is silently truncated, and without
  NO_BACKSLASH_ESCAPES, which would break PyMySQL's quoting).

One committer per database holds GET_LOCK on its writer session; read replicas (role auto or
replica) follow the log from a consistent snapshot (`START TRANSACTION WITH CONSISTENT SNAPSHOT`,
REPEATABLE READ on both servers), as on Postgres, and take the lock over when its session ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql
import pymysql.cursors

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

_SUFFIX = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS strata_meta (`key` VARCHAR(64) PRIMARY KEY, "
    f"value BIGINT NOT NULL){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS `tables` (number INTEGER PRIMARY KEY, "
    f"name VARCHAR(255) NOT NULL UNIQUE){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS `indexes` (index_id INTEGER PRIMARY KEY, "
    "table_num INTEGER NOT NULL, name VARCHAR(255) NOT NULL, fields TEXT NOT NULL, "
    f"UNIQUE (table_num, name)){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS documents (id VARBINARY(255) NOT NULL, ts BIGINT NOT NULL, "
    "table_num INTEGER NOT NULL, value LONGBLOB, PRIMARY KEY (id, ts), "
    f"KEY documents_ts (ts)){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS index_entries (index_id INTEGER NOT NULL, "
    "`key` VARBINARY(3000) NOT NULL, ts BIGINT NOT NULL, doc_id VARBINARY(255) NOT NULL, "
    "deleted SMALLINT NOT NULL, PRIMARY KEY (index_id, `key`, ts), "
    f"KEY index_entries_ts (ts)){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS strata_mutation_requests (`key` VARBINARY(1024) PRIMARY KEY, "
    f"ts BIGINT NOT NULL, result LONGTEXT NOT NULL){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS strata_commit_tokens (token VARBINARY(255) PRIMARY KEY, "
    f"ts BIGINT NOT NULL){_SUFFIX}",
    "CREATE TABLE IF NOT EXISTS strata_committer (id INTEGER PRIMARY KEY, "
    f"url TEXT NOT NULL){_SUFFIX}",
]

_LIVE = (
    "NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.index_id = e.index_id "
    "AND n.`key` = e.`key` AND n.ts > e.ts AND n.ts <= %s)"
)


def _scan_sql(desc: bool, bounded_hi: bool) -> str:
    hi = " AND e.`key` < %s" if bounded_hi else ""
    order = "DESC" if desc else "ASC"
    return (
        "SELECT e.`key`, d.value FROM index_entries e "
        "JOIN documents d ON d.id = e.doc_id AND d.ts = e.ts "
        f"WHERE e.index_id = %s AND e.`key` >= %s{hi} AND e.ts <= %s AND e.deleted = 0 "
        f"AND {_LIVE} ORDER BY e.`key` {order} LIMIT %s"
    )


_SCAN = {(d, b): _scan_sql(d, b) for d in (False, True) for b in (False, True)}
# A table snapshot with each document's version ts (streaming export), ascending from a key.
_SNAPSHOT = (
    "SELECT e.`key`, e.ts, d.value FROM index_entries e "
    "JOIN documents d ON d.id = e.doc_id AND d.ts = e.ts "
    f"WHERE e.index_id = %s AND e.`key` >= %s AND e.ts <= %s AND e.deleted = 0 "
    f"AND {_LIVE} ORDER BY e.`key` LIMIT %s"
)
# Document versions (deletes included) committed in (after, until], in commit order.
_VERSIONS = {
    by_table: "SELECT id, ts, table_num, value FROM documents WHERE ts > %s AND ts <= %s"
    + (" AND table_num = %s" if by_table else "")
    + " ORDER BY ts, id LIMIT %s"
    for by_table in (False, True)
}
_COUNT = (
    "SELECT COUNT(*) FROM index_entries e "
    f"WHERE e.index_id = %s AND e.ts <= %s AND e.deleted = 0 AND {_LIVE}"
)
_GET = (
    "SELECT table_num, ts, value FROM documents WHERE id = %s AND ts <= %s ORDER BY ts DESC LIMIT 1"
)
_LATEST = (
    "SELECT e.doc_id, e.ts, d.value FROM index_entries e "
    "JOIN documents d ON d.id = e.doc_id AND d.ts = e.ts "
    "WHERE e.index_id = %s AND e.deleted = 0 "
    "AND NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.index_id = e.index_id "
    "AND n.`key` = e.`key` AND n.ts > e.ts)"
)
_INSERT_DOC = "INSERT INTO documents (id, ts, table_num, value) VALUES "
_INSERT_ENTRY = "INSERT INTO index_entries (index_id, `key`, ts, doc_id, deleted) VALUES "
_INSERT_TOKEN = "INSERT INTO strata_commit_tokens (token, ts) VALUES "
_INSERT_REQUEST = "INSERT INTO strata_mutation_requests (`key`, ts, result) VALUES "
_INSERT_TABLE = "INSERT INTO `tables` (number, name) VALUES "
_INSERT_INDEX = "INSERT INTO `indexes` (index_id, table_num, name, fields) VALUES "
_SET_META = (
    "INSERT INTO strata_meta (`key`, value) VALUES (%s, %s) "
    "ON DUPLICATE KEY UPDATE value = VALUES(value)"
)
# target: (table, range column, scope predicate, successor join, tombstone predicate)
_GC_TARGETS = {
    "index": (
        "index_entries",
        "`key`",
        "o.index_id = %s AND ",
        "n.index_id = o.index_id AND n.`key` = o.`key` AND n.ts > o.ts",
        "o.deleted = 1",
    ),
    "documents": ("documents", "id", "", "n.id = o.id AND n.ts > o.ts", "o.value IS NULL"),
}
# A multi-row INSERT is cut before it grows past this (MariaDB's max_allowed_packet is 16 MiB).
_MAX_STATEMENT_BYTES = 4 << 20
_ROWS_PER_INSERT = 256
# A killed previous committer's session may need a moment to be noticed and release its lock.
_LOCK_WAIT_S = 3.0
_SCHEMA_LOCK_WAIT_S = 30


def connect_kwargs(url: str) -> dict[str, Any]:
    """PyMySQL connection arguments for mysql://user:pass@host:port/db[?unix_socket=...]."""
    parts = urlsplit(url)
    if parts.scheme != "mysql":
        raise ValueError(f"Not a mysql:// URL: {url.split('@')[-1]!r}")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ValueError("A mysql:// database URL needs a database name: mysql://.../dbname")
    kwargs: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": database,
        "charset": "utf8mb4",
        "autocommit": True,
        "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        # Whatever the server's default: an over-long value is an error, never truncated, and
        # backslash escapes (how PyMySQL quotes values) keep their meaning.
        "sql_mode": "STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION",
    }
    query = parse_qs(parts.query)
    if "unix_socket" in query:
        kwargs["unix_socket"] = query["unix_socket"][0]
    return kwargs


def _lock_name(kind: str, database: str) -> str:
    """GET_LOCK names are server-wide and at most 64 characters."""
    name = f"strata:{kind}:{database}"
    if len(name) > 64:
        name = f"strata:{kind}:" + hashlib.sha256(database.encode()).hexdigest()[:40]
    return name


_CONNECTION_ERRORS = (pymysql.err.OperationalError, pymysql.err.InterfaceError)


def _value_sql(width: int) -> str:
    return "(" + ", ".join(["%s"] * width) + ")"


class _Pool:
    """A small thread-safe pool of autocommit reader connections (PyMySQL has none)."""

    def __init__(self, kwargs: dict[str, Any], size: int) -> None:
        self._kwargs = kwargs
        self._idle: list[pymysql.connections.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[pymysql.connections.Connection[Any]]:
        self._slots.acquire()
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = pymysql.connect(**self._kwargs)
            try:
                yield conn
            except _CONNECTION_ERRORS:
                # A dropped session is not reused, nor are the idle ones (a server restart
                # ended them all).
                with self._lock:
                    stale, self._idle = [conn, *self._idle], []
                for old in stale:
                    with contextlib.suppress(pymysql.Error):
                        old.close()
                raise
            except BaseException:
                with contextlib.suppress(pymysql.Error):
                    conn.rollback()
                self._give_back(conn)
                raise
            self._give_back(conn)
        finally:
            self._slots.release()

    def _give_back(self, conn: pymysql.connections.Connection[Any]) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(pymysql.Error):
                conn.close()


class MySQLPersistence(Persistence):
    """Readers take a pooled connection per statement; one writer session holds GET_LOCK."""

    def __init__(self, url: str, *, pool_size: int = 8, writer: bool = True) -> None:
        self._kwargs = connect_kwargs(url)
        database = self._kwargs["database"]
        self._committer_lock = _lock_name("committer", database)
        conn = pymysql.connect(**self._kwargs)
        try:
            with conn.cursor() as cur:
                schema_lock = _lock_name("schema", database)
                cur.execute("SELECT GET_LOCK(%s, %s)", (schema_lock, _SCHEMA_LOCK_WAIT_S))
                try:
                    for stmt in _SCHEMA:
                        cur.execute(stmt)
                finally:
                    cur.execute("SELECT RELEASE_LOCK(%s)", (schema_lock,))
        finally:
            conn.close()
        self._writer_lock = threading.Lock()
        self._writer: pymysql.connections.Connection[Any] | None = None
        if writer:
            self._writer = self._connect_writer()
        self._pool = _Pool(self._kwargs, pool_size)

    @property
    def is_writer(self) -> bool:
        return self._writer is not None

    def try_become_writer(self) -> bool:
        """Take the committer lock if it is free right now (a replica's takeover attempt)."""
        with self._writer_lock:
            if self._writer is None:
                try:
                    self._writer = self._connect_writer(wait_s=0.0)
                except PersistenceLocked:
                    return False
        return True

    def writer_alive(self) -> bool:
        """Whether this process still holds the committer lock (its session still works)."""
        with self._writer_lock:
            conn = self._writer
            if conn is None:
                return False
            try:
                conn.ping(reconnect=False)
                return True
            except pymysql.Error:
                self._writer = None  # the server ended the session, and with it the lock
                with contextlib.suppress(pymysql.Error):
                    conn.close()
                return False

    def _connect_writer(self, wait_s: float = _LOCK_WAIT_S) -> pymysql.connections.Connection[Any]:
        """Connect and take the committer lock, waiting briefly for a dead holder to go away.

        The session does not autocommit: a write's transaction starts with its first statement
        (no BEGIN round trip) and every use ends in COMMIT or ROLLBACK.
        """
        conn = pymysql.connect(**{**self._kwargs, "autocommit": False})
        deadline = time.monotonic() + wait_s
        got = False
        with conn.cursor() as cur:
            # The lock lives as long as this session: the server must not end it for idling
            # (wait_timeout defaults to 8 hours on both servers; this is their maximum).
            cur.execute("SET SESSION wait_timeout = 31536000")
            while True:
                cur.execute("SELECT GET_LOCK(%s, 0)", (self._committer_lock,))
                row = cur.fetchone()
                got = bool(row and row[0] == 1)
                if got or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        if not got:
            conn.close()
            raise PersistenceLocked(
                "This MySQL database is already open for writing by another Database "
                "(one committer per deployment)"
            )
        conn.commit()  # end the lock queries' transaction
        return conn

    def _query(self, sql: str, params: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
        """One read on a pooled session; retried once on a fresh session if the pooled one was
        closed meanwhile (server restart, wait_timeout)."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn, conn.cursor() as cur:
                    cur.execute(sql, params)
                    return tuple(cur.fetchall())
            except _CONNECTION_ERRORS:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _writer_cursor(self) -> Iterator[pymysql.cursors.Cursor]:
        """The writer session's cursor, inside one transaction (rolled back on error)."""
        with self._writer_lock:
            conn = self._writer
            if conn is None:
                raise PersistenceLocked("This process is a read replica; the committer writes")
            try:
                with conn.cursor() as cur:
                    yield cur
                conn.commit()
            except BaseException:
                try:
                    conn.rollback()
                except pymysql.Error:
                    # The session, and with it the committer lock, is gone: the failed commit
                    # is reported and the lock retaken, unless another process took it meanwhile
                    # (then this one no longer writes).
                    self._writer = None
                    with contextlib.suppress(pymysql.Error):
                        conn.close()
                    self._writer = self._connect_writer()
                raise

    @staticmethod
    def _insert(cur: pymysql.cursors.Cursor, head: str, rows: list[tuple[Any, ...]]) -> None:
        """Multi-row INSERTs of at most _ROWS_PER_INSERT rows and about _MAX_STATEMENT_BYTES."""
        if not rows:
            return
        values = _value_sql(len(rows[0]))
        batch: list[tuple[Any, ...]] = []
        size = 0
        for row in rows:
            row_size = sum(len(v) for v in row if isinstance(v, (bytes, str))) * 2 + 32
            if batch and (len(batch) >= _ROWS_PER_INSERT or size + row_size > _MAX_STATEMENT_BYTES):
                cur.execute(head + ", ".join([values] * len(batch)), [v for r in batch for v in r])
                batch, size = [], 0
            batch.append(row)
            size += row_size
        cur.execute(head + ", ".join([values] * len(batch)), [v for r in batch for v in r])

    def load_catalog(self) -> tuple[list[TableRow], list[IndexRow]]:
        tables = [
            TableRow(int(n), str(name))
            for n, name in self._query("SELECT number, name FROM `tables`", ())
        ]
        indexes = [
            IndexRow(int(i), int(t), str(name), tuple(str(fields).split(",")))
            for i, t, name, fields in self._query(
                "SELECT index_id, table_num, name, fields FROM `indexes`", ()
            )
        ]
        return tables, indexes

    def max_ts(self) -> int:
        rows = self._query(
            "SELECT MAX(m) FROM (SELECT MAX(ts) AS m FROM documents "
            "UNION ALL SELECT value FROM strata_meta "
            "WHERE `key` IN ('meta_ts', 'retention_ts')) AS t",
            (),
        )
        return int(rows[0][0] or 0)

    def create_table(self, table: TableRow, indexes: list[IndexRow], ts: int) -> None:
        with self._writer_cursor() as cur:
            self._insert(cur, _INSERT_TABLE, [(table.number, table.name)])
            self._insert(
                cur,
                _INSERT_INDEX,
                [(i.index_id, i.table_number, i.name, ",".join(i.fields)) for i in indexes],
            )
            cur.execute(_SET_META, ("meta_ts", ts))

    def create_index(self, index: IndexRow, entries: list[IndexEntry], ts: int) -> None:
        with self._writer_cursor() as cur:
            self._insert(
                cur,
                _INSERT_INDEX,
                [(index.index_id, index.table_number, index.name, ",".join(index.fields))],
            )
            self._insert(cur, _INSERT_ENTRY, [(i, k, t, d, int(x)) for i, k, t, d, x in entries])
            cur.execute(_SET_META, ("meta_ts", ts))

    def drop_index(self, index_id: int, ts: int) -> None:
        with self._writer_cursor() as cur:
            cur.execute("DELETE FROM index_entries WHERE index_id = %s", (index_id,))
            cur.execute("DELETE FROM `indexes` WHERE index_id = %s", (index_id,))
            cur.execute(_SET_META, ("meta_ts", ts))

    def write_commit(
        self,
        documents: list[DocumentVersion],
        entries: list[IndexEntry],
        tokens: list[tuple[str, int]] | None = None,
        requests: list[RequestRecord] | None = None,
    ) -> None:
        with self._writer_cursor() as cur:
            self._insert(cur, _INSERT_DOC, list(documents))
            self._insert(cur, _INSERT_ENTRY, [(i, k, t, d, int(x)) for i, k, t, d, x in entries])
            self._insert(cur, _INSERT_TOKEN, list(tokens or []))
            self._insert(cur, _INSERT_REQUEST, list(requests or []))

    def mutation_request(self, key: str) -> tuple[int, str] | None:
        rows = self._query(
            "SELECT ts, result FROM strata_mutation_requests WHERE `key` = %s", (key,)
        )
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def prune_mutation_requests(self, before_ts: int) -> int:
        with self._pool.connection() as conn, conn.cursor() as cur:
            return int(
                cur.execute("DELETE FROM strata_mutation_requests WHERE ts < %s", (before_ts,))
            )

    def prune_commit_tokens(self, before_ts: int) -> int:
        with self._pool.connection() as conn, conn.cursor() as cur:
            return int(cur.execute("DELETE FROM strata_commit_tokens WHERE ts < %s", (before_ts,)))

    def token_ts(self, token: str) -> int | None:
        """Commit ts of a forwarded commit already applied under this token, if any."""
        rows = self._query("SELECT ts FROM strata_commit_tokens WHERE token = %s", (token,))
        return int(rows[0][0]) if rows else None

    def set_committer_url(self, url: str) -> None:
        with self._writer_cursor() as cur:
            cur.execute(
                "INSERT INTO strata_committer (id, url) VALUES (1, %s) "
                "ON DUPLICATE KEY UPDATE url = VALUES(url)",
                (url,),
            )

    def committer_url(self) -> str | None:
        rows = self._query("SELECT url FROM strata_committer WHERE id = 1", ())
        return str(rows[0][0]) if rows else None

    def read_log(self, after: int) -> LogSlice:
        """Every commit after `after` from one consistent snapshot (commits land in ts order)."""
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            try:
                return self._read_log(cur, after)
            finally:
                conn.commit()

    @staticmethod
    def _read_log(cur: pymysql.cursors.Cursor, after: int) -> LogSlice:
        cur.execute(
            "SELECT id, ts, table_num, value FROM documents WHERE ts > %s ORDER BY ts", (after,)
        )
        docs = cur.fetchall()
        cur.execute("SELECT index_id, `key`, ts FROM index_entries WHERE ts > %s", (after,))
        entries = cur.fetchall()
        cur.execute("SELECT `key`, value FROM strata_meta")
        meta = {str(k): int(v) for k, v in cur.fetchall()}
        meta_ts = meta.get("meta_ts", 0)
        catalog = None
        if meta_ts > after:
            cur.execute("SELECT number, name FROM `tables`")
            tables = cur.fetchall()
            cur.execute("SELECT index_id, table_num, name, fields FROM `indexes`")
            indexes = cur.fetchall()
            catalog = (
                [TableRow(int(n), str(name)) for n, name in tables],
                [
                    IndexRow(int(i), int(t), str(name), tuple(str(f).split(",")))
                    for i, t, name, f in indexes
                ],
            )
        return LogSlice(
            [(bytes(i), int(t), int(n), None if v is None else bytes(v)) for i, t, n, v in docs],
            [(int(x), bytes(k), int(t)) for x, k, t in entries],
            meta_ts,
            catalog,
            meta.get("retention_ts", 0),
        )

    def get_document(self, internal_id: bytes, ts: int) -> tuple[int, int, bytes | None] | None:
        rows = self._query(_GET, (internal_id, ts))
        if not rows:
            return None
        n, t, v = rows[0]
        return int(n), int(t), None if v is None else bytes(v)

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
        return [(bytes(i), int(t), bytes(v)) for i, t, v in self._query(_LATEST, (by_id_index,))]

    def retention_ts(self) -> int:
        rows = self._query("SELECT value FROM strata_meta WHERE `key` = 'retention_ts'", ())
        return int(rows[0][0]) if rows else 0

    def set_retention_ts(self, cutoff: int) -> None:
        with self._writer_cursor() as cur:
            cur.execute(_SET_META, ("retention_ts", cutoff))

    def collect_garbage_chunk(
        self, target: str, scope: tuple[int, ...], cutoff: int, start: bytes, rows: int
    ) -> tuple[int, bytes | None]:
        table, col, scope_sql, successor, tombstone = _GC_TARGETS[target]
        with self._writer_cursor() as cur:
            cur.execute(
                f"SELECT {col} FROM {table} o WHERE {scope_sql}{col} >= %s "
                f"ORDER BY {col} LIMIT 1 OFFSET %s",
                (*scope, start, rows),
            )
            row = cur.fetchone()
            end: bytes | None = None if row is None else bytes(row[0])
            if end is not None and end <= start:  # one key has more versions than a chunk
                cur.execute(
                    f"SELECT {col} FROM {table} o WHERE {scope_sql}{col} > %s "
                    f"ORDER BY {col} LIMIT 1",
                    (*scope, start),
                )
                row = cur.fetchone()
                end = None if row is None else bytes(row[0])
            rng = f"{scope_sql}o.{col} >= %s" + ("" if end is None else f" AND o.{col} < %s")
            bounds = (*scope, start) if end is None else (*scope, start, end)
            deleted = cur.execute(
                f"DELETE o FROM {table} o JOIN {table} n ON {successor} AND n.ts <= %s "
                f"WHERE {rng} AND o.ts < %s",
                (cutoff, *bounds, cutoff),
            )
            deleted += cur.execute(
                f"DELETE o FROM {table} o WHERE {rng} AND {tombstone} AND o.ts <= %s",
                (*bounds, cutoff),
            )
        return int(deleted), end

    def close(self) -> None:
        self._pool.close()
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is None:
            return
        with contextlib.suppress(pymysql.Error), writer.cursor() as cur:
            cur.execute("SELECT RELEASE_LOCK(%s)", (self._committer_lock,))
        with contextlib.suppress(pymysql.Error):
            writer.close()
