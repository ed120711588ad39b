"""Storage engine throughput vs raw sqlite3/psycopg/PyMySQL in one run: `python -m bench.storage`.

Each backend is measured with the same durability settings as the engine uses (SQLite WAL with
synchronous=FULL; Postgres and MySQL/MariaDB server defaults, InnoDB flushing its log at every
commit; `--backend mysql` or `all` needs the server of STRATA_TEST_MYSQL_URL). Engine and raw
phases alternate and the best round counts, because the machine is shared. The raw reads are the
same figure in both read rows.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pymysql

from dataplane.storage.mysql import connect_kwargs
from dataplane.transactions import Database, open_database

from .common import Result, print_table, rate, rate_threads

PG_ADMIN = os.environ.get(
    "STRATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MYSQL_ADMIN = os.environ.get("STRATA_TEST_MYSQL_URL", "mysql://strata:strata@127.0.0.1:3306/mysql")
BODY = {"author": "bench", "body": "hello world " * 8, "n": 0.0}
PRELOAD = 5_000


@contextmanager
def _pg_database() -> Iterator[str]:
    name = f"strata_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _mysql_database() -> Iterator[str]:
    name = f"strata_bench_{uuid.uuid4().hex[:10]}"
    admin = pymysql.connect(**connect_kwargs(MYSQL_ADMIN))
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        yield f"{MYSQL_ADMIN.rpartition('/')[0]}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


THREADS = 8
Rates = tuple[float, float, float, float]  # commits/s 1 and N threads, reads/s, uncached


def _engine(url: str, seconds: float) -> Rates:
    db: Database = open_database(url)
    try:

        def insert(i: int) -> None:
            db.run_mutation(lambda tx: tx.insert("docs", {**BODY, "n": float(i)}))

        commits = rate(insert, seconds)
        commits_n = rate_threads(lambda _: insert, THREADS, seconds)
        ids, _ = db.run_mutation(lambda tx: [tx.insert("docs", BODY) for _ in range(PRELOAD)])
        rng = random.Random(1)
        reads = rate(lambda _: db.begin().get(rng.choice(ids)), seconds)
    finally:
        db.close()
    db = open_database(url, cache_bytes=0)
    try:
        uncached = rate(lambda _: db.begin().get(rng.choice(ids)), seconds)
    finally:
        db.close()
    return commits, commits_n, reads, uncached


def _sqlite_conn(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _raw_sqlite(path: Path, seconds: float) -> Rates:
    conn = _sqlite_conn(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body BLOB)")

    def committer(c: sqlite3.Connection) -> Callable[[int], None]:
        def commit(i: int) -> None:
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO docs (body) VALUES (?)", (orjson.dumps({**BODY, "n": i}),))
            c.execute("COMMIT")

        return commit

    commits = rate(committer(conn), seconds)
    conns = [_sqlite_conn(path) for _ in range(THREADS)]
    commits_n = rate_threads(lambda t: committer(conns[t]), THREADS, seconds)
    for c in conns:
        c.close()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO docs (body) VALUES (?)", [(orjson.dumps(BODY),)] * PRELOAD)
    conn.execute("COMMIT")
    top = conn.execute("SELECT MAX(id) FROM docs").fetchone()[0]
    rng = random.Random(1)

    def read(_: int) -> None:
        row = conn.execute("SELECT body FROM docs WHERE id = ?", (rng.randint(1, top),)).fetchone()
        orjson.loads(row[0])

    reads = rate(read, seconds)
    conn.close()
    return commits, commits_n, reads, reads


def _raw_postgres(url: str, seconds: float) -> Rates:
    def committer(c: psycopg.Connection[Any]) -> Callable[[int], None]:
        def commit(i: int) -> None:
            c.execute("INSERT INTO docs (body) VALUES (%s)", (orjson.dumps({**BODY, "n": i}),))
            c.commit()

        return commit

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE docs (id BIGSERIAL PRIMARY KEY, body BYTEA)")
        conn.commit()
        commits = rate(committer(conn), seconds)
        conns = [psycopg.connect(url) for _ in range(THREADS)]
        commits_n = rate_threads(lambda t: committer(conns[t]), THREADS, seconds)
        for c in conns:
            c.close()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO docs (body) VALUES (%s)", [(orjson.dumps(BODY),)] * PRELOAD
            )
        conn.commit()
        conn.autocommit = True
        top = conn.execute("SELECT MAX(id) FROM docs").fetchone()[0]  # type: ignore[index]
        rng = random.Random(1)

        def read(_: int) -> None:
            row = conn.execute(
                "SELECT body FROM docs WHERE id = %s", (rng.randint(1, top),)
            ).fetchone()
            assert row is not None
            orjson.loads(row[0])

        reads = rate(read, seconds)
    return commits, commits_n, reads, reads


def _raw_mysql(url: str, seconds: float) -> Rates:
    kwargs = {**connect_kwargs(url), "autocommit": False}

    def committer(c: Any) -> Callable[[int], None]:
        def commit(i: int) -> None:
            with c.cursor() as cur:
                cur.execute(
                    "INSERT INTO docs (body) VALUES (%s)", (orjson.dumps({**BODY, "n": i}),)
                )
            c.commit()

        return commit

    conn = pymysql.connect(**kwargs)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE docs (id BIGINT AUTO_INCREMENT PRIMARY KEY, body LONGBLOB) "
                "ENGINE=InnoDB"
            )
        commits = rate(committer(conn), seconds)
        conns = [pymysql.connect(**kwargs) for _ in range(THREADS)]
        commits_n = rate_threads(lambda t: committer(conns[t]), THREADS, seconds)
        for c in conns:
            c.close()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO docs (body) VALUES (%s)", [(orjson.dumps(BODY),)] * PRELOAD
            )
            conn.commit()
            cur.execute("SELECT MAX(id) FROM docs")
            top = cur.fetchone()[0]
        conn.autocommit(True)
        rng = random.Random(1)

        def read(_: int) -> None:
            with conn.cursor() as cur:
                cur.execute("SELECT body FROM docs WHERE id = %s", (rng.randint(1, top),))
                row = cur.fetchone()
            assert row is not None
            orjson.loads(row[0])

        reads = rate(read, seconds)
    finally:
        conn.close()
    return commits, commits_n, reads, reads


def _best(runs: list[Rates]) -> Rates:
    return (
        max(r[0] for r in runs),
        max(r[1] for r in runs),
        max(r[2] for r in runs),
        max(r[3] for r in runs),
    )


def _report(title: str, engine: list[Rates], raw: list[Rates]) -> None:
    eng, base = _best(engine), _best(raw)
    print_table(
        f"{title}, best of {len(engine)} alternating rounds",
        [
            Result("commits/s, 1 thread (1 insert/txn)", eng[0], base[0]),
            Result(f"commits/s, {THREADS} threads", eng[1], base[1]),
            Result("point reads/s, 1 thread (by id)", eng[2], base[2]),
            Result("  same, engine cache disabled", eng[3], base[3]),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5, help="duration of each phase")
    parser.add_argument("--rounds", type=int, default=2, help="alternating engine/raw rounds")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "mysql", "all"], default="all")
    args = parser.parse_args()
    if args.backend in ("sqlite", "all"):
        engine: list[Rates] = []
        raw: list[Rates] = []
        for i in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                raw.append(_raw_sqlite(Path(tmp) / f"raw{i}.db", args.seconds))
                engine.append(_engine(f"sqlite:///{tmp}/engine{i}.db", args.seconds))
        _report("SQLite (WAL, synchronous=FULL)", engine, raw)
    if args.backend in ("postgres", "all"):
        engine, raw = [], []
        for _ in range(args.rounds):
            with _pg_database() as raw_url, _pg_database() as eng_url:
                raw.append(_raw_postgres(raw_url, args.seconds))
                engine.append(_engine(eng_url, args.seconds))
        _report("PostgreSQL (default durability)", engine, raw)
    if args.backend in ("mysql", "all"):
        engine, raw = [], []
        for _ in range(args.rounds):
            with _mysql_database() as raw_url, _mysql_database() as eng_url:
                raw.append(_raw_mysql(raw_url, args.seconds))
                engine.append(_engine(eng_url, args.seconds))
        _report("MySQL (MariaDB server, default durability)", engine, raw)


if __name__ == "__main__":
    main()
