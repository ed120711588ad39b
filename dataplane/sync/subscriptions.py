"""The subscription manager: shared query executions kept fresh by committed write sets.

Identical (function, args, identity, journal) subscriptions share one `Subscription`. One
asyncio task advances the manager in steps: it reads the commits since the last step (under
the committer's lock, so none is missed), re-runs only the subscriptions whose read sets
intersect them (found through an index of the read sets, not by testing each) plus new
ones, all at one snapshot ts, then asks each affected session to flush. After a step every
live result is valid at `processed_ts`, which is what makes each Transition a consistent
snapshot. Sessions are written to directly, never via a channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import structlog

from ..auth import Identity
from ..transactions import CommitRecord, Database, ReadSet, ReadSetIndex, WriteLogTruncated
from .backend import FunctionFailure, QueryFailed, QueryRun, SyncBackend
from .protocol import QueryResult

log = structlog.get_logger(__name__)

SubKey = tuple[str, bytes, str, str | None]


class Subscriber(Protocol):
    """A session the manager notifies after a step (see SyncSession)."""

    async def after_step(self, processed_ts: int) -> None: ...


def subscription_key(
    path: str, args: dict[str, Any], identity: Identity | None, journal: str | None
) -> SubKey:
    args_key = orjson.dumps(args, option=orjson.OPT_SORT_KEYS)
    return (path, args_key, "" if identity is None else identity.key, journal)


@dataclass(eq=False)
class Subscription:
    """One shared query execution and the sessions watching it."""

    key: SubKey
    path: str
    args: dict[str, Any]
    identity: Identity | None
    journal: str | None
    result: QueryResult | None = None
    read_set: ReadSet | None = None  # None after an internal failure: re-run on any commit
    version: int = 0  # bumped whenever the result changes
    refs: dict[Subscriber, int] = field(default_factory=dict)


def result_of(outcome: QueryRun | QueryFailed) -> QueryResult:
    """Pre-serialise an outcome once; the fingerprint decides whether it changed."""
    if isinstance(outcome, QueryRun):
        # Sorted keys, like Convex's own objects: equal results serialise identically.
        raw = orjson.dumps(outcome.value, option=orjson.OPT_SORT_KEYS)
        return QueryResult(
            success=True,
            value=orjson.Fragment(raw),
            log_lines=outcome.log_lines,
            journal=outcome.journal,
            fingerprint=b"ok" + raw + orjson.dumps(outcome.journal),
        )
    err = outcome.error
    data_raw = None if err.data is None else orjson.dumps(err.data)
    return QueryResult(
        success=False,
        value=None,
        error_message=err.message,
        error_data=None if data_raw is None else orjson.Fragment(data_raw),
        log_lines=err.log_lines,
        fingerprint=b"err" + orjson.dumps([err.message]) + (data_raw or b""),
    )


class SubscriptionManager:
    """Keeps every subscribed query's result current; one per deployment process."""

    def __init__(
        self,
        db: Database,
        backend: SyncBackend,
        *,
        workers: int = 4,
    ) -> None:
        self.db = db
        self.backend = backend
        self.processed_ts = db.latest_ts()
        self._subs: dict[SubKey, Subscription] = {}
        # Every executed live subscription, by its read set: a commit's written keys find the
        # ones it invalidates (testing each read set cost O(subscriptions x keys) per step).
        self._index: ReadSetIndex[Subscription] = ReadSetIndex()
        self._pending: set[Subscription] = set()
        self._flush: set[Subscriber] = set()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync-query")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._wake_queued = False  # a commit wake-up is waiting to run on the loop
        self._task: asyncio.Task[None] | None = None
        self._remote: deque[CommitRecord] = deque()  # announced by other processes
        self.executions = 0  # total query executions, for tests and metrics

    # ----- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the step task on the running loop and listen to commits."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.processed_ts = self.db.latest_ts()
        self.db.add_commit_listener(self._on_commit)
        self._task = self._loop.create_task(self._run(), name="sync-subscription-manager")

    async def stop(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(ValueError):
            self.db.remove_commit_listener(self._on_commit)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _on_commit(self, record: CommitRecord) -> None:
        """Called in the committing thread: only wake the step task."""
        self.notify_commit()

    def notify_commit(self) -> None:
        """Thread-safe: new commits exist (local, or announced by another process).

        Coalesced: while a wake-up is already queued on the loop, later commits ride on it
        (each call_soon_threadsafe is a system call and a likely thread hand-off)."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or self._wake_queued or loop.is_closed():
            return
        self._wake_queued = True
        loop.call_soon_threadsafe(self._wake_from_commit)

    def _wake_from_commit(self) -> None:
        self._wake_queued = False  # before set(): a commit arriving now queues a new wake-up
        if self._wake is not None:
            self._wake.set()

    def ingest_remote(self, record: CommitRecord) -> None:
        """Thread-safe: another process of this deployment committed `record`."""
        self._remote.append(record)
        self.notify_commit()

    def _visible_remote(self, latest: int) -> list[CommitRecord]:
        """Remote records this process's storage can already read (ts <= latest)."""
        ready: list[CommitRecord] = []
        waiting: list[CommitRecord] = []
        while self._remote:
            record = self._remote.popleft()
            if record.ts <= self.processed_ts:
                continue
            (ready if record.ts <= latest else waiting).append(record)
        self._remote.extend(waiting)
        return ready

    # ----- subscriptions (called on the loop) ----------------------------------------------

    @property
    def subscription_count(self) -> int:
        return len(self._subs)

    def subscribe(
        self,
        subscriber: Subscriber,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        journal: str | None,
    ) -> Subscription:
        key = subscription_key(path, args, identity, journal)
        sub = self._subs.get(key)
        if sub is None:
            sub = Subscription(key, path, args, identity, journal)
            self._subs[key] = sub
            self._pending.add(sub)
            self._kick()
        sub.refs[subscriber] = sub.refs.get(subscriber, 0) + 1
        return sub

    def unsubscribe(self, subscriber: Subscriber, sub: Subscription) -> None:
        count = sub.refs.get(subscriber, 0) - 1
        if count > 0:
            sub.refs[subscriber] = count
            return
        sub.refs.pop(subscriber, None)
        if not sub.refs and self._subs.get(sub.key) is sub:
            del self._subs[sub.key]
            self._pending.discard(sub)
            self._index.discard(sub)

    def request_flush(self, subscriber: Subscriber) -> None:
        """Have the subscriber flushed after the next step (which also advances the ts)."""
        self._flush.add(subscriber)
        self._kick()

    def defer_flush(self, subscriber: Subscriber) -> None:
        """Flush the subscriber after a later step, without forcing one now."""
        self._flush.add(subscriber)

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ----- the step task -------------------------------------------------------------

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.step()
            except Exception:
                log.exception("subscription step failed")
                await asyncio.sleep(0.05)

    async def step(self) -> None:
        """Advance every subscription to the newest commit and flush affected sessions."""
        latest = self.db.latest_ts()
        try:
            records = self.db.commits_since(self.processed_ts)
            remote = self._visible_remote(latest)
            if remote:
                local_ts = {r.ts for r in records}
                records = sorted(
                    records + [r for r in remote if r.ts not in local_ts], key=lambda r: r.ts
                )
            stale = self._index.invalidated(records) if records else set()
        except WriteLogTruncated:
            records, stale = [], set(self._subs.values())
        target = max(latest, records[-1].ts if records else 0, self.processed_ts)
        rerun = stale | self._pending
        self._pending = set()
        changed = await self._execute(rerun, target) if rerun else []
        self.processed_ts = target
        affected: set[Subscriber] = self._flush
        self._flush = set()
        for sub in changed:
            affected.update(sub.refs)
        for subscriber in affected:
            try:
                await subscriber.after_step(target)
            except Exception:
                log.exception("flushing a sync session failed")

    async def _execute(self, subs: set[Subscription], ts: int) -> list[Subscription]:
        loop = asyncio.get_running_loop()
        ordered = list(subs)
        futures = [loop.run_in_executor(self._pool, self._run_one, sub, ts) for sub in ordered]
        outcomes = await asyncio.gather(*futures)
        changed = []
        for sub, (result, read_set) in zip(ordered, outcomes, strict=True):
            if self._subs.get(sub.key) is not sub:
                continue  # unsubscribed while running
            sub.read_set = read_set
            self._index.put(sub, read_set)
            if sub.result is None or sub.result.fingerprint != result.fingerprint:
                sub.result = result
                sub.version += 1
                changed.append(sub)
        return changed

    def _run_one(self, sub: Subscription, ts: int) -> tuple[QueryResult, ReadSet | None]:
        self.executions += 1
        try:
            outcome = self.backend.run_query(sub.path, sub.args, sub.identity, ts, sub.journal)
        except FunctionFailure as exc:
            return result_of(QueryFailed(exc, ReadSet(), ts)), None
        except Exception as exc:
            log.exception("query execution crashed", path=sub.path)
            failure = FunctionFailure(f"Server Error: {type(exc).__name__}")
            return result_of(QueryFailed(failure, ReadSet(), ts)), None
        if isinstance(outcome, QueryRun) and outcome.journal is not None:
            sub.journal = outcome.journal  # later runs keep the page where this one ended
        return result_of(outcome), outcome.read_set
