"""Durable mutation de-duplication: `_mutation_requests`, written in the mutation's own commit.

A client resends every mutation it has no answer for after a reconnect, with the same session
and request id. If the server crashed after the commit but before the answer left, an
in-memory table forgets the first run and the mutation would run twice. So a mutation run on
behalf of a sync request records (request key -> result) inside its own transaction: the
record commits atomically with the writes, and a resent request finds it and replays the
result instead of running again. Records older than RETENTION_MS are pruned.

Only successful mutations are recorded: a failed one committed nothing, so running it again
cannot double a write.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

import orjson

from ..transactions import BY_CREATION_TIME, IndexDefinition

if TYPE_CHECKING:
    from ..transactions import Database, Transaction

TABLE = "_mutation_requests"
BY_KEY = "by_key"
RETENTION_MS = 60 * 60 * 1000.0  # clients resend after reconnecting; an hour covers restarts
PRUNE_EVERY_S = 60.0
PRUNE_BATCH = 500

_ready: weakref.WeakSet[Database] = weakref.WeakSet()
_ready_lock = threading.Lock()
_last_prune: weakref.WeakKeyDictionary[Database, float] = weakref.WeakKeyDictionary()


def ensure_table(db: Database) -> None:
    """Create the table and its key index once per open Database (idempotent, cheap after)."""
    if db in _ready:
        return
    with _ready_lock:
        if not any(i.name == BY_KEY for i in db.indexes(TABLE)):
            db.set_indexes(TABLE, [IndexDefinition(BY_KEY, ["key"])])
        _ready.add(db)


def lookup(txn: Transaction, key: str) -> Any | None:
    """The recorded convex-JSON result for `key` as a 1-tuple, or None if never committed.

    The read lands in the transaction's read set, so two concurrent runs of one request
    conflict and the retried one finds the other's record.
    """
    for doc in txn.index_scan(TABLE, BY_KEY, [{"type": "Eq", "fieldPath": "key", "value": key}]):
        return (orjson.loads(str(doc["result"])),)
    return None


def record(txn: Transaction, key: str, value_json: Any) -> None:
    """Stage the record in the mutation's transaction (committed with its writes or not at all)."""
    txn.insert(TABLE, {"key": key, "result": orjson.dumps(value_json).decode()})


def maybe_prune(db: Database, now_s: float | None = None) -> int:
    """Delete up to PRUNE_BATCH expired records, at most once per PRUNE_EVERY_S per database."""
    now = time.time() if now_s is None else now_s
    with _ready_lock:
        if now - _last_prune.get(db, 0.0) < PRUNE_EVERY_S:
            return 0
        _last_prune[db] = now
    return prune(db, now * 1000 - RETENTION_MS)


def prune(db: Database, before_ms: float) -> int:
    """Delete records created before `before_ms` (ms since epoch), oldest first, one batch."""
    if TABLE not in db.catalog.by_name:
        return 0

    def delete(txn: Transaction) -> int:
        expired = [{"type": "Lt", "fieldPath": "_creationTime", "value": float(before_ms)}]
        n = 0
        for doc in txn.index_scan(TABLE, BY_CREATION_TIME, expired):
            txn.delete(str(doc["_id"]))
            n += 1
            if n >= PRUNE_BATCH:
                break
        return n

    deleted, _ = db.run_mutation(delete)
    return deleted
