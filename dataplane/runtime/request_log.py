"""Durable mutation de-duplication: a request record committed with the mutation's writes.

A client resends every mutation it has no answer for after a reconnect, with the same session
and request id. If the server crashed after the commit but before the answer left, an
in-memory table forgets the first run and the mutation would run twice. So a mutation run on
behalf of a sync request carries (request key -> result) in its transaction, and the committer
writes it in the same storage transaction as the writes (`strata_mutation_requests`, a plain
side table: no document, no index entries). A resent request finds it and replays the result
instead of running again; a resend racing its first run is refused by the committer
(DuplicateRequest) and replays too. Records older than RETENTION_MS are pruned.

Only mutations that write are recorded: one that wrote nothing changes nothing when it runs
again, and a failed one committed nothing.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import orjson

from ..transactions import MutationRequest

if TYPE_CHECKING:
    from ..transactions import Database, Transaction

RETENTION_MS = 60 * 60 * 1000.0  # clients resend after reconnecting; an hour covers restarts
PRUNE_EVERY_S = 60.0


def lookup(db: Database, key: str) -> tuple[Any, int] | None:
    """(recorded convex-JSON result, commit ts) for `key`, or None if never committed."""
    found = db.mutation_request(key)
    if found is None:
        return None
    return orjson.loads(found[1]), found[0]


def record(txn: Transaction, key: str, value_json: Any, *, check: bool) -> None:
    """Attach the record to the mutation's transaction (committed with its writes or not at
    all). `check`: the key may already be committed (a resend), so the committer looks."""
    txn.request = MutationRequest(key, orjson.dumps(value_json).decode(), check)


class Pruner:
    """Deletes one database's expired records, at most once per PRUNE_EVERY_S (the runner
    that records them owns one)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._last = 0.0

    def maybe_prune(self, now_s: float | None = None) -> int:
        now = time.time() if now_s is None else now_s
        with self._lock:
            if now - self._last < PRUNE_EVERY_S:
                return 0
            self._last = now
        return prune(self.db, now * 1000 - RETENTION_MS)


def prune(db: Database, before_ms: float) -> int:
    """Delete records committed before `before_ms` (ms since epoch)."""
    return db.prune_mutation_requests(int(before_ms * 1_000_000))
