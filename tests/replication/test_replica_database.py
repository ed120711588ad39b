"""A replica Database in-process against real Postgres: following, forwarding, takeover."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from dataplane.replication.codec import decode_transaction, encode_transaction
from dataplane.transactions import (
    CommitRecord,
    Database,
    DatabaseError,
    IndexDefinition,
    OccConflict,
    Transaction,
    open_database,
)


class DirectForwarder:
    """Forwards to an in-process committer through the same JSON codec the HTTP path uses."""

    def __init__(self, replica: Database, committer: Database) -> None:
        self.replica, self.committer = replica, committer
        self.sent = 0

    def commit(self, txn: Transaction) -> int:
        self.sent += 1
        body = encode_transaction(txn, f"token-{self.sent:08d}")
        copy, token = decode_transaction(self.committer, body)
        ts = self.committer.commit_forwarded(copy, token)
        while self.replica.latest_ts() < ts:
            self.replica.follow()
        return ts

    def schema(self, table: str, indexes: list[IndexDefinition] | None) -> None:
        if indexes is None:
            self.committer.ensure_table(table)
        else:
            self.committer.set_indexes(table, indexes)
        self.replica.follow()


@pytest.fixture
def pair(replicated_url: str) -> Iterator[tuple[Database, Database]]:
    committer = open_database(replicated_url, gc_interval_s=0, role="auto")
    replica = open_database(replicated_url, gc_interval_s=0, role="auto")
    replica.forwarder = DirectForwarder(replica, committer)
    try:
        yield committer, replica
    finally:
        replica.close()
        committer.close()


def _insert(db: Database, table: str, value: dict[str, Any]) -> tuple[str, int]:
    return db.run_mutation(lambda t: t.insert(table, value))


def _role(db: Database) -> str:
    return "replica" if db.replica else "committer"


def _keys(record: CommitRecord) -> dict[int, list[bytes]]:
    return {i: sorted(k) for i, k in record.index_keys.items()}


def test_replica_follows_the_persisted_log(pair: tuple[Database, Database]) -> None:
    committer, replica = pair
    assert not committer.replica and replica.replica
    seen: list[CommitRecord] = []
    replica.add_commit_listener(seen.append)
    committer.set_indexes("msgs", [IndexDefinition("by_n", ["n"])])
    ids = [_insert(committer, "msgs", {"n": float(n)}) for n in range(4)]
    committer.run_mutation(lambda t: t.patch(ids[0][0], {"n": 99.0}))
    committer.run_mutation(lambda t: t.delete(ids[1][0]))
    assert replica.follow() > 0
    assert replica.latest_ts() == committer.latest_ts()
    ours, theirs = committer.commits_since(0), replica.commits_since(0)
    data = [r for r in ours if r.writes]
    assert [r.ts for r in data] == [r.ts for r in theirs if r.writes]
    for mine, copy in zip(data, [r for r in theirs if r.writes], strict=True):
        assert _keys(mine) == _keys(copy)
        assert {(w.doc_id, str(w.value)) for w in mine.writes} == {
            (w.doc_id, str(w.value)) for w in copy.writes
        }
    assert [r.ts for r in seen] == [r.ts for r in theirs]
    txn = replica.begin()
    assert [d["n"] for d in txn.index_scan("msgs", "by_n", [])] == [2.0, 3.0, 99.0]
    old = replica.begin(ids[2][1])
    assert [d["n"] for d in old.table_scan("msgs")] == [0.0, 1.0, 2.0]


def test_replica_commits_through_the_committer_exactly_once(
    pair: tuple[Database, Database],
) -> None:
    committer, replica = pair
    doc_id, ts = replica.run_mutation(lambda t: t.insert("notes", {"text": "hi"}))
    assert "notes" in committer.catalog.by_name  # created through the forwarder
    assert replica.latest_ts() >= ts and replica.begin().get(doc_id) == committer.begin().get(
        doc_id
    )
    # A retried forward with the same token is answered with the first commit's ts.
    txn = replica.begin()
    txn.insert("notes", {"text": "once"})
    body = encode_transaction(txn, "retried-token")
    first = committer.commit_forwarded(*decode_transaction(committer, body))
    again = committer.commit_forwarded(*decode_transaction(committer, body))
    assert first == again
    assert [d["text"] for d in committer.begin().table_scan("notes")] == ["hi", "once"]


def test_forwarded_commit_is_validated_by_occ(pair: tuple[Database, Database]) -> None:
    committer, replica = pair
    doc_id, _ = committer.run_mutation(lambda t: t.insert("c", {"v": 1.0}))
    replica.follow()
    stale = replica.begin()
    stale.patch(doc_id, {"v": stale.get(doc_id)["v"] + 1})  # type: ignore[index]
    committer.run_mutation(lambda t: t.patch(doc_id, {"v": 10.0}))
    with pytest.raises(OccConflict):
        committer.commit_forwarded(
            *decode_transaction(committer, encode_transaction(stale, "t" * 12))
        )
    with pytest.raises(DatabaseError, match="Malformed"):
        decode_transaction(committer, {"token": "t" * 12})


def test_replica_takes_over_when_the_committer_closes(pair: tuple[Database, Database]) -> None:
    committer, replica = pair
    doc_id, _ = committer.run_mutation(lambda t: t.insert("c", {"v": 1.0}))
    assert not replica.try_take_committer_lock()
    committer.close()
    assert replica.try_take_committer_lock()
    replica.promote()
    assert not replica.replica and replica.begin().get(doc_id) is not None
    _, ts = replica.run_mutation(lambda t: t.patch(doc_id, {"v": 2.0}))
    assert ts > 0 and replica.begin().get(doc_id)["v"] == 2.0  # type: ignore[index]


def test_committer_that_lost_its_session_demotes_itself(
    pair: tuple[Database, Database], replicated_url: str
) -> None:
    import psycopg
    import pymysql

    from dataplane.storage.mysql import connect_kwargs

    committer, replica = pair
    doc_id, _ = committer.run_mutation(lambda t: t.insert("c", {"v": 1.0}))
    committer.check_committer()
    assert _role(committer) == "committer"
    writer = committer.persistence._writer  # type: ignore[attr-defined]
    if replicated_url.startswith("mysql:"):
        admin = pymysql.connect(**connect_kwargs(replicated_url))
        with admin.cursor() as cur:
            cur.execute(f"KILL {int(writer.thread_id())}")
        admin.close()
    else:
        with psycopg.connect(replicated_url, autocommit=True) as pg:
            pg.execute("SELECT pg_terminate_backend(%s)", (writer.info.backend_pid,))
    for _ in range(200):  # the server frees the lock once the terminated backend exits
        if replica.try_take_committer_lock():
            break
        time.sleep(0.05)
    replica.promote()
    replica.run_mutation(lambda t: t.patch(doc_id, {"v": 2.0}))
    committer.check_committer()
    assert _role(committer) == "replica"  # no longer the committer: it follows the new one
    committer.follow()
    assert committer.begin().get(doc_id)["v"] == 2.0  # type: ignore[index]


def test_history_collection_forgets_old_forward_tokens(pair: tuple[Database, Database]) -> None:
    committer, replica = pair
    replica.run_mutation(lambda t: t.insert("c", {"v": 1.0}))  # forwarded: leaves a token
    tokens = committer.persistence._query(  # type: ignore[attr-defined]
        "SELECT token FROM strata_commit_tokens", ()
    )
    assert tokens
    committer.run_mutation(lambda t: t.insert("c", {"v": 2.0}))
    committer.collect_garbage(retention_ns=0)
    for (token,) in tokens:
        assert committer.persistence.token_ts(token) is None  # type: ignore[attr-defined]
