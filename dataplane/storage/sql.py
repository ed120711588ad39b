"""SQL text shared by the SQLite and Postgres backends (both compare BLOB/bytea bytewise)."""

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


def gc_sql(param: str) -> list[str]:
    """Delete versions no snapshot at or after the cutoff can see (cutoff bound 2x, then 1x)."""
    p = param
    return [
        f"DELETE FROM index_entries WHERE ts < {p} AND EXISTS (SELECT 1 FROM index_entries n "
        "WHERE n.index_id = index_entries.index_id AND n.key = index_entries.key "
        f"AND n.ts > index_entries.ts AND n.ts <= {p})",
        f"DELETE FROM documents WHERE ts < {p} AND EXISTS (SELECT 1 FROM documents n "
        f"WHERE n.id = documents.id AND n.ts > documents.ts AND n.ts <= {p})",
        f"DELETE FROM index_entries WHERE deleted = 1 AND ts <= {p}",
        f"DELETE FROM documents WHERE value IS NULL AND ts <= {p}",
    ]


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
    ]
