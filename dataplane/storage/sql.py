"""SQL text shared by the SQLite and Postgres backends (both compare BLOB/bytea bytewise).

MySQL quotes `key` and says VARBINARY: dataplane/storage/mysql.py spells out its own.
"""

from __future__ import annotations


def scan_sql(param: str, desc: bool, bounded_hi: bool) -> str:
    """Snapshot range scan: newest live entry per key <= ts, joined to its document version."""
    p = param
    hi = f" AND e.key < {p}" if bounded_hi else ""
    order = "DESC" if desc else "ASC"
    return (
        "SELECT e.key, d.value FROM index_entries e "
        "JOIN documents d ON d.id = e.doc_id AND d.ts = e.ts "
        f"WHERE e.index_id = {p} AND e.key >= {p}{hi} AND e.ts <= {p} AND e.deleted = 0 "
        "AND NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.index_id = e.index_id "
        f"AND n.key = e.key AND n.ts > e.ts AND n.ts <= {p}) "
        f"ORDER BY e.key {order} LIMIT {p}"
    )


def snapshot_sql(param: str) -> str:
    """Like the ascending unbounded scan, also returning each document's version ts."""
    p = param
    return (
        "SELECT e.key, e.ts, d.value FROM index_entries e "
        "JOIN documents d ON d.id = e.doc_id AND d.ts = e.ts "
        f"WHERE e.index_id = {p} AND e.key >= {p} AND e.ts <= {p} AND e.deleted = 0 "
        "AND NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.index_id = e.index_id "
        f"AND n.key = e.key AND n.ts > e.ts AND n.ts <= {p}) "
        f"ORDER BY e.key LIMIT {p}"
    )


def versions_sql(param: str, by_table: bool) -> str:
    """Document versions (tombstones included) committed in (after, until], in commit order.

    Parameters: after, until[, table number], limit."""
    p = param
    table = f" AND table_num = {p}" if by_table else ""
    return (
        "SELECT id, ts, table_num, value FROM documents "
        f"WHERE ts > {p} AND ts <= {p}{table} ORDER BY ts, id LIMIT {p}"
    )


def count_sql(param: str) -> str:
    """Live entries of an index as of ts."""
    p = param
    return (
        "SELECT COUNT(*) FROM index_entries e "
        f"WHERE e.index_id = {p} AND e.ts <= {p} AND e.deleted = 0 "
        "AND NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.index_id = e.index_id "
        f"AND n.key = e.key AND n.ts > e.ts AND n.ts <= {p})"
    )


def get_sql(param: str) -> str:
    """Newest version of one document at or before ts."""
    p = param
    return (
        f"SELECT table_num, ts, value FROM documents WHERE id = {p} AND ts <= {p} "
        "ORDER BY ts DESC LIMIT 1"
    )


def latest_sql(param: str) -> str:
    """Newest version of every live document in an index (index backfill from by_id)."""
    p = param
    return (
        "SELECT e.doc_id, e.ts, d.value FROM index_entries e "
        "JOIN documents d ON d.id = e.doc_id AND d.ts = e.ts "
        f"WHERE e.index_id = {p} AND e.deleted = 0 "
        "AND NOT EXISTS (SELECT 1 FROM index_entries n WHERE n.index_id = e.index_id "
        "AND n.key = e.key AND n.ts > e.ts)"
    )


GC_TARGETS = {
    # target: (table, range column, scope predicate, successor join, tombstone predicate)
    "index": (
        "index_entries",
        "key",
        "index_id = {p} AND ",
        "n.index_id = index_entries.index_id AND n.key = index_entries.key "
        "AND n.ts > index_entries.ts",
        "deleted = 1",
    ),
    "documents": (
        "documents",
        "id",
        "",
        "n.id = documents.id AND n.ts > documents.ts",
        "value IS NULL",
    ),
}


def gc_sql(param: str, target: str, bounded: bool) -> tuple[str, str, str, str]:
    """SQL for one garbage-collection chunk: (boundary, next key, superseded, tombstones).

    boundary (scope, start, offset) finds where the chunk ends; next key (scope, start) moves
    past a key whose versions alone exceed the chunk; the deletes take (scope, start, [end,]
    cutoff[, cutoff]). A version is garbage once a newer version of its key exists at or before
    the cutoff; a tombstone once it is at or before the cutoff (nothing older is left by then).
    """
    p = param
    table, col, scope, successor, tombstone = GC_TARGETS[target]
    scope = scope.format(p=p)
    rng = f"{scope}{col} >= {p}" + (f" AND {col} < {p}" if bounded else "")
    return (
        f"SELECT {col} FROM {table} WHERE {scope}{col} >= {p} ORDER BY {col} LIMIT 1 OFFSET {p}",
        f"SELECT {col} FROM {table} WHERE {scope}{col} > {p} ORDER BY {col} LIMIT 1",
        f"DELETE FROM {table} WHERE {rng} AND ts < {p} AND EXISTS "
        f"(SELECT 1 FROM {table} n WHERE {successor} AND n.ts <= {p})",
        f"DELETE FROM {table} WHERE {rng} AND {tombstone} AND ts <= {p}",
    )


def schema_sql(blob: str, bigint: str, suffix: str = "") -> list[str]:
    """DDL for a fresh database."""
    return [
        "CREATE TABLE IF NOT EXISTS strata_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS tables (number INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        "CREATE TABLE IF NOT EXISTS indexes (index_id INTEGER PRIMARY KEY, "
        "table_num INTEGER NOT NULL, name TEXT NOT NULL, fields TEXT NOT NULL, "
        "UNIQUE (table_num, name))",
        f"CREATE TABLE IF NOT EXISTS documents (id {blob} NOT NULL, ts {bigint} NOT NULL, "
        f"table_num INTEGER NOT NULL, value {blob}, PRIMARY KEY (id, ts)){suffix}",
        "CREATE TABLE IF NOT EXISTS index_entries (index_id INTEGER NOT NULL, "
        f"key {blob} NOT NULL, "
        f"ts {bigint} NOT NULL, doc_id {blob} NOT NULL, deleted SMALLINT NOT NULL, "
        f"PRIMARY KEY (index_id, key, ts)){suffix}",
        # Durable mutation de-duplication (runtime/request_log.py), written in the commit.
        f"CREATE TABLE IF NOT EXISTS strata_mutation_requests (key TEXT PRIMARY KEY, "
        f"ts {bigint} NOT NULL, result TEXT NOT NULL){suffix}",
    ]


def insert_request_sql(placeholder: str) -> str:
    p = placeholder
    return f"INSERT INTO strata_mutation_requests (key, ts, result) VALUES ({p}, {p}, {p})"


def get_request_sql(placeholder: str) -> str:
    return f"SELECT ts, result FROM strata_mutation_requests WHERE key = {placeholder}"


def prune_requests_sql(placeholder: str) -> str:
    return f"DELETE FROM strata_mutation_requests WHERE ts < {placeholder}"
