"""Group commit: concurrent committers share one storage transaction (and one fsync).

Each committer queues its prepared transaction. If nobody is leading, it leads: it takes the
whole queue as a batch, has it committed, wakes the batch's owners and hands leadership to the
first transaction queued meanwhile. Nobody waits behind a batch that does not contain it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .catalog import Catalog
from .writeset import PreparedDoc, PreparedEntry

if TYPE_CHECKING:
    from .transaction import Transaction


@dataclass(slots=True)
class QueuedCommit:
    """A transaction waiting for the committer, with its prepared rows and final outcome."""

    txn: Transaction
    catalog: Catalog
    docs: list[PreparedDoc]
    entries: list[PreparedEntry]
    ts: int | None = None
    error: BaseException | None = None
    promoted: bool = False
    token: str | None = None  # idempotency token of a commit forwarded by a replica
    wake: threading.Event = field(default_factory=threading.Event)


class GroupCommitQueue:
    """Leader/follower hand-off around a batch function that sets each item's ts or error."""

    def __init__(self, run_batch: Callable[[list[QueuedCommit]], None]) -> None:
        self._run_batch = run_batch
        self._lock = threading.Lock()
        self._queue: list[QueuedCommit] = []
        self._leader_active = False

    def submit(self, item: QueuedCommit) -> int:
        """Block until the item is committed; returns its ts or raises its error."""
        with self._lock:
            self._queue.append(item)
            leader = not self._leader_active
            self._leader_active = True
        if not leader:
            item.wake.wait()  # either finished by a leader, or promoted to lead
        if leader or item.promoted:
            self._lead(item)
        if item.error is not None:
            raise item.error
        assert item.ts is not None
        return item.ts

    def _lead(self, own: QueuedCommit) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._run_batch(batch)
        except BaseException as exc:
            for item in batch:
                if item.ts is None and item.error is None:
                    item.error = exc
        finally:
            for item in batch:
                if item is not own:
                    item.wake.set()
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.promoted = True
                    successor.wake.set()
                else:
                    self._leader_active = False
