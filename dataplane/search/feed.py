"""Keeping in-memory indexes equal to the committed table contents.

Every index subscribes (through its engine) to the Database's commit listener. Building an
index scans a snapshot of its table while commits keep arriving; those commits are queued
and applied after the scan, so no write is lost or applied out of order.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any

import structlog

from ..transactions import CommitRecord, Database

_SCAN_PAGE = 1024
log = structlog.get_logger(__name__)


class CommitWatermark:
    """The newest commit whose listener calls have finished, so searches can wait for it.

    The Database publishes a ts to readers a moment before it calls the commit listeners; a
    search at snapshot ts must not look at an index that has not yet seen commit ts. Every ts
    the Database hands out (schema changes included) reaches the listeners, so waiting here
    always ends.
    """

    def __init__(self, db: Database, timeout: float = 10.0) -> None:
        self._cond = threading.Condition()
        self._seen = db.latest_ts()
        self._timeout = timeout

    def observe(self, record: CommitRecord) -> None:
        """Call after every index has applied the record."""
        with self._cond:
            if record.ts > self._seen:
                self._seen = record.ts
                self._cond.notify_all()

    @property
    def seen(self) -> int:
        return self._seen

    def wait(self, ts: int) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._seen >= ts, self._timeout):
                log.warning("commit listener lagging", wanted=ts, seen=self._seen)


class LiveIndex(ABC):
    """An index over one table fed by commits; subclasses store documents their own way."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.lock = threading.RLock()
        self._building = False
        self._pending: list[CommitRecord] = []

    @abstractmethod
    def upsert(self, doc_id: str, doc: dict[str, Any]) -> None:
        """Index (or re-index) a document's current value."""

    @abstractmethod
    def remove(self, doc_id: str) -> None:
        """Forget a document; unknown ids are ignored."""

    @abstractmethod
    def clear(self) -> None:
        """Drop everything (before a rebuild)."""

    def after_commit(self, ts: int) -> None:  # noqa: B027 - optional hook
        """Called once per applied commit that touched the table."""

    def after_rebuild(self, ts: int) -> None:  # noqa: B027 - optional hook
        """Called when a build from the snapshot at ts (plus later commits) is complete."""

    def apply(self, record: CommitRecord) -> None:
        """Fold one commit's writes to this table into the index."""
        if self.table not in record.tables:
            return
        with self.lock:
            if self._building:
                self._pending.append(record)
                return
            self._apply_locked(record)

    def _apply_locked(self, record: CommitRecord) -> None:
        for write in record.writes:
            if write.table != self.table:
                continue
            if write.value is None:
                self.remove(write.doc_id)
            else:
                self.upsert(write.doc_id, write.value)
        self.after_commit(record.ts)

    def hold(self) -> None:
        """Queue incoming commits instead of applying them (while loading or building)."""
        with self.lock:
            if not self._building:
                self._building = True
                self._pending = []

    @property
    def holding(self) -> bool:
        """True while loading or building: the contents may lag behind the table."""
        return self._building

    def release(self, ts: int) -> None:
        """Apply the queued commits newer than `ts` (what the index now reflects) and resume."""
        with self.lock:
            for record in self._pending:
                if record.ts > ts:
                    self._apply_locked(record)
            self._pending = []
            self._building = False
            self.after_rebuild(ts)

    def known_ids(self) -> set[str]:
        """Ids of the documents in the index (needed by reconcile)."""
        raise NotImplementedError

    def rebuild(self, db: Database, *, reset: bool = True) -> None:
        """Re-index the table from a snapshot, then catch up on commits made meanwhile.

        With reset=False the current contents are reconciled instead of discarded: only
        documents that differ from the snapshot are re-indexed, and vanished ones removed.
        """
        self.hold()
        # Commits after this ts are queued (hold); those before it are in the snapshot.
        ts = db.latest_ts()
        try:
            if reset:
                with self.lock:
                    self.clear()
            seen: set[str] = set()
            for doc in db.scan_table(self.table, ts, _SCAN_PAGE):
                with self.lock:
                    self.upsert(doc["_id"], doc)
                seen.add(doc["_id"])
            if not reset:
                with self.lock:
                    for doc_id in self.known_ids() - seen:
                        self.remove(doc_id)
        finally:
            self.release(ts)
