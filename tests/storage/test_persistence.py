"""The persistence backends on their own: atomic writes and recovery from a failed write."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest

from dataplane.config import ConfigError, DeploymentConfig
from dataplane.storage import open_persistence
from dataplane.storage.mysql import MySQLPersistence, connect_kwargs


def test_failed_write_is_atomic_and_backend_recovers(db_url: str) -> None:
    store = open_persistence(db_url)
    try:
        doc = (b"\x01" * 16, 10, 10_001, b'{"a":1.0}')
        entry = (1, b"k1", 10, b"\x01" * 16, False)
        store.write_commit([doc], [entry])
        clash = (b"\x02" * 16, 11, 10_001, b'{"b":1.0}')
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            store.write_commit([clash], [entry, (1, b"k2", 11, b"\x02" * 16, False)])
        assert store.get_document(b"\x02" * 16, 20) is None  # nothing of the failed write
        assert store.scan_index(1, b"", None, 20, False, 10) == [(b"k1", b'{"a":1.0}')]
        store.write_commit([clash], [(1, b"k2", 11, b"\x02" * 16, False)])
        assert store.get_document(b"\x02" * 16, 20) == (10_001, 11, b'{"b":1.0}')
        assert [k for k, _ in store.scan_index(1, b"", None, 20, True, 10)] == [b"k2", b"k1"]
        assert store.max_ts() == 11
    finally:
        store.close()


def test_keys_compare_bytewise(db_url: str) -> None:
    """Case, trailing spaces and NUL bytes are significant in keys, ids and request keys."""
    store = open_persistence(db_url)
    keys = [b"A", b"a", b"a\x00", b"a ", b"a\xff", b"\x00"]
    try:
        docs = [(bytes([i + 1]) * 16, 10, 10_001, b'{"i":%d}' % i) for i in range(len(keys))]
        entries = [(1, k, 10, d[0], False) for k, d in zip(keys, docs, strict=True)]
        requests = [(key, 10, f'"{key}"') for key in ("r", "R", "r ", "r\u00e9", "re\u0301")]
        store.write_commit(docs, entries, requests=requests)
        assert [k for k, _ in store.scan_index(1, b"", None, 20, False, 10)] == sorted(keys)
        assert [k for k, _ in store.scan_index(1, b"a", b"a\xff", 20, True, 10)] == [
            b"a ",
            b"a\x00",
            b"a",
        ]
        for key, _, result in requests:
            assert store.mutation_request(key) == (10, result)
        assert store.mutation_request("r  ") is None
        assert store.count_live(1, 20) == len(keys)
    finally:
        store.close()


def test_bad_urls_are_rejected() -> None:
    with pytest.raises(ValueError, match="Unsupported database URL"):
        open_persistence("oracle://x")
    with pytest.raises(ValueError, match="needs a database name"):
        open_persistence("mysql://u:p@127.0.0.1:1/")
    with pytest.raises(ValueError, match="synchronous"):
        open_persistence("sqlite:////tmp/x.db?synchronous=sometimes")


@pytest.mark.mysql
def test_mysql_sessions_ended_by_the_server_are_replaced(mysql_url: str) -> None:
    store = open_persistence(mysql_url)
    assert isinstance(store, MySQLPersistence)
    try:
        doc = (b"\x01" * 16, 10, 10_001, b'{"a":1.0}')
        store.write_commit([doc], [(1, b"k1", 10, b"\x01" * 16, False)])
        assert store.get_document(b"\x01" * 16, 20) == (10_001, 10, b'{"a":1.0}')
        readers = [conn.thread_id() for conn in store._pool._idle]
        assert readers
        admin = pymysql.connect(**connect_kwargs(mysql_url))
        try:
            with admin.cursor() as cur:
                for thread in readers:
                    cur.execute(f"KILL {int(thread)}")
        finally:
            admin.close()
        assert store.get_document(b"\x01" * 16, 20) == (10_001, 10, b'{"a":1.0}')
        assert store.scan_index(1, b"", None, 20, False, 10) == [(b"k1", b'{"a":1.0}')]
        assert store._writer is not None
        with store._writer.cursor() as cur:
            cur.execute("SELECT @@session.wait_timeout")
            assert int(cur.fetchone()[0]) == 31536000
        store.write_commit([(b"\x02" * 16, 11, 10_001, None)], [])
        assert store.max_ts() == 11
        store.collect_garbage_chunk("documents", (), 12, b"", 100)
        # Between writes the committer's session holds no transaction (no read view that
        # would hold back InnoDB's purge of old row versions).
        admin = pymysql.connect(**connect_kwargs(mysql_url))
        try:
            with admin.cursor() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.innodb_trx "
                    "WHERE trx_mysql_thread_id = %s",
                    (store._writer.thread_id(),),
                )
                assert cur.fetchone()[0] == 0
        finally:
            admin.close()
    finally:
        store.close()


@pytest.mark.mysql
def test_mysql_refuses_rather_than_truncates_an_oversized_key(mysql_url: str) -> None:
    admin = pymysql.connect(**connect_kwargs(mysql_url))
    try:
        with admin.cursor() as cur:  # a lax server default must not matter
            cur.execute("SELECT @@GLOBAL.sql_mode")
            (previous,) = cur.fetchone()
            cur.execute("SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES'")
        try:
            store = open_persistence(mysql_url)
        finally:
            with admin.cursor() as cur:
                cur.execute("SET GLOBAL sql_mode = %s", (previous,))
    finally:
        admin.close()
    try:
        doc = (b"\x01" * 16, 10, 10_001, b'{"a":"\\\\ \'"}')
        with pytest.raises(pymysql.err.DataError, match="too long"):
            store.write_commit([doc], [(1, b"k" * 3001, 10, b"\x01" * 16, False)])
        store.write_commit([doc], [(1, b"k\\'" * 100, 10, b"\x01" * 16, False)])
        assert store.scan_index(1, b"", None, 20, False, 10) == [(b"k\\'" * 100, doc[3])]
    finally:
        store.close()


def test_deployment_config_accepts_the_three_database_urls(tmp_path: Path) -> None:
    base = {"STRATA_DP_DATA_DIR": str(tmp_path), "STRATA_DP_INSTANCE_SECRET": "s" * 43}
    for url in ("sqlite:////tmp/x.db", "postgresql://u@h/db", "mysql://u:p@h:3306/db"):
        config = DeploymentConfig.from_env({**base, "STRATA_DP_DATABASE_URL": url})
        assert config.database_url == url
    with pytest.raises(ConfigError, match="mysql://"):
        DeploymentConfig.from_env({**base, "STRATA_DP_DATABASE_URL": "oracle://u@h/db"})
