"""OCC: conflicting transactions are detected and retried; totals survive concurrency."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from dataplane.transactions import (
    Database,
    IndexDefinition,
    OccConflict,
    Transaction,
    TransactionLimitError,
)
from dataplane.values import to_json


def test_conflicting_write_is_rejected(db: Database) -> None:
    (acct,), _ = db.run_mutation(lambda tx: [tx.insert("acct", {"bal": 10.0})])
    t1, t2 = db.begin(), db.begin()
    for tx in (t1, t2):
        doc = tx.get(acct)
        assert doc is not None
        tx.patch(acct, {"bal": doc["bal"] + 1})
    db.commit(t1)
    with pytest.raises(OccConflict, match="changed while it was running"):
        db.commit(t2)
    assert db.begin().get(acct)["bal"] == 11.0  # type: ignore[index]


def test_disjoint_index_ranges_do_not_conflict(db: Database) -> None:
    db.set_indexes("m", [IndexDefinition("by_ch", ["ch"])])
    rng_a = [{"type": "Eq", "fieldPath": "ch", "value": "a"}]
    t1, t2 = db.begin(), db.begin()
    assert list(t1.index_scan("m", "by_ch", rng_a)) == []
    t1.insert("m", {"ch": "a"})
    assert list(t2.index_scan("m", "by_ch", [{**rng_a[0], "value": "b"}])) == []
    t2.insert("m", {"ch": "b"})
    db.commit(t1)
    db.commit(t2)  # different channels: no conflict
    t3 = db.begin()
    assert len(list(t3.index_scan("m", "by_ch", rng_a))) == 1
    t3.insert("m", {"ch": "a"})
    db.run_mutation(lambda tx: tx.insert("m", {"ch": "a"}))
    with pytest.raises(OccConflict):
        db.commit(t3)  # a phantom appeared in the range t3 read


def test_run_mutation_retries_until_success(db: Database) -> None:
    (acct,), _ = db.run_mutation(lambda tx: [tx.insert("acct", {"bal": 0.0})])
    attempts = 0

    def bump(tx: Transaction) -> None:
        nonlocal attempts
        attempts += 1
        doc = tx.get(acct)
        assert doc is not None
        if attempts == 1:  # a competing commit lands while this attempt runs
            db.run_mutation(lambda other: other.patch(acct, {"bal": 100.0}))
        tx.patch(acct, {"bal": doc["bal"] + 1})

    db.run_mutation(bump)
    assert attempts == 2
    assert db.begin().get(acct)["bal"] == 101.0  # type: ignore[index]


def test_write_limit(db: Database) -> None:
    tx = db.begin()
    with pytest.raises(TransactionLimitError, match="16000"):
        for _ in range(16_001):
            tx.insert("t", {})


def test_concurrent_transfers_keep_total(db: Database) -> None:
    n_accounts, n_threads, per_thread = 5, 6, 25
    ids, _ = db.run_mutation(
        lambda tx: [tx.insert("acct", {"bal": 100}) for _ in range(n_accounts)]
    )
    db.set_indexes("log", [IndexDefinition("by_thread", ["thread"])])
    errors: list[BaseException] = []

    def transfer(tx: Transaction, thread: int, seq: int, src: str, dst: str) -> None:
        a, b = tx.get(src), tx.get(dst)
        assert a is not None and b is not None
        tx.patch(src, {"bal": a["bal"] - 1})
        tx.patch(dst, {"bal": b["bal"] + 1})
        tx.insert("log", {"thread": float(thread), "seq": float(seq)})

    def worker(thread: int) -> None:
        rng = random.Random(thread)
        try:
            for seq in range(per_thread):
                src, dst = rng.sample(ids, 2)

                def attempt(tx: Transaction, s: int = seq, a: str = src, b: str = dst) -> None:
                    transfer(tx, thread, s, a, b)

                db.run_mutation(attempt, max_retries=1000)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    tx = db.begin()
    balances = [tx.get(i)["bal"] for i in ids]  # type: ignore[index]
    assert sum(balances) == 100 * n_accounts
    assert all(type(b) is int for b in balances)
    for thread in range(n_threads):
        rng: list[dict[str, Any]] = [
            {"type": "Eq", "fieldPath": "thread", "value": to_json(float(thread))}
        ]
        seqs = sorted(d["seq"] for d in tx.index_scan("log", "by_thread", rng))
        assert seqs == [float(s) for s in range(per_thread)]
    assert tx.count("log") == n_threads * per_thread


def test_latest_ts_never_runs_ahead_of_the_write_log(db: Database) -> None:
    """Subscription managers rely on: latest_ts() == T => commits_since() holds every <= T."""
    db.set_indexes("t", [])  # creates the table (its schema records are checked elsewhere)
    start = db.latest_ts()
    stop = threading.Event()
    problems: list[str] = []
    seen_in_listener: list[int] = []

    def listener(record: Any) -> None:
        seen_in_listener.append(record.ts)
        if db.latest_ts() < record.ts:
            problems.append("listener ran before latest_ts covered its commit")

    db.add_commit_listener(listener)

    def watcher() -> None:
        while not stop.is_set():
            latest = db.latest_ts()
            records = db.commits_since(start)
            if latest > start and (not records or records[-1].ts < latest):
                problems.append(f"latest {latest} but log ends at {records[-1:]}")

    def writer() -> None:
        for _ in range(40):
            db.run_mutation(lambda tx: tx.insert("t", {"x": 1.0}))

    watch = threading.Thread(target=watcher)
    watch.start()
    writers = [threading.Thread(target=writer) for _ in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
    stop.set()
    watch.join(timeout=30)
    assert not problems, problems[:3]
    assert seen_in_listener == sorted(seen_in_listener) and len(seen_in_listener) == 160
    assert [r.ts for r in db.commits_since(start)] == seen_in_listener
