"""The reconciler: one loop per process that finds due jobs and crons and dispatches them.

It sleeps until the next due time or until a commit touches the scheduler tables, then scans
the tables (the only source of truth) and hands each due job to a local thread pool or to
Celery. Nothing is remembered outside the database, so after a crash of any process a restart
re-scans and delivers every job still pending; a job dispatched but not finished within the
lease is dispatched again (the executor makes duplicates harmless).
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from ..scheduled import crons, jobs
from ..scheduled.tables import CRON_JOBS, SCHEDULED, ensure_tables
from ..transactions import CommitRecord, Database
from . import executor

if TYPE_CHECKING:
    from ..runtime import FunctionRunner
    from .delivery import CeleryDelivery

log = structlog.get_logger(__name__)

JOB = "job"
CRON = "cron"
MAX_SLEEP_S = 30.0
BUSY_POLL_S = 1.0
SCAN_LIMIT = 256
RETRY_S = 2.0


class Scheduler:
    """Delivers one deployment's scheduled functions and crons while started."""

    def __init__(
        self,
        db: Database,
        runner: FunctionRunner,
        *,
        name: str = "local",
        broker_url: str = "",
        workers: int = 4,
        lease_s: float = 60.0,
        run_celery_worker: bool = True,
        data_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.runner = runner
        self.name = name
        self.lease_s = lease_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, str], float] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.celery: CeleryDelivery | None = None
        self._workers = workers
        self._run_celery_worker = run_celery_worker
        if broker_url:
            from .delivery import CeleryDelivery  # Celery loads only when a broker is set

            self.celery = CeleryDelivery(
                broker_url, name, self.execute, concurrency=workers, data_dir=data_dir
            )
        self.dispatched = 0

    # ----- lifecycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Recover after a restart (fail interrupted actions), then start delivering."""
        if self._thread is not None:
            return
        ensure_tables(self.db)
        failed = executor.fail_interrupted_actions(self.db)
        if failed:
            log.warning("failed actions interrupted by a restart", count=failed)
        self._stop.clear()
        self.db.add_commit_listener(self._on_commit)
        if self.celery is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="strata-scheduled")
        elif self._run_celery_worker:
            self.celery.start_worker()
        self._thread = threading.Thread(target=self._loop, name="strata-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and wait for running jobs (pending ones stay for the next start)."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(30)
        self._thread = None
        with contextlib.suppress(ValueError):
            self.db.remove_commit_listener(self._on_commit)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self.celery is not None:
            self.celery.stop_worker()
        with self._lock:
            self._inflight.clear()

    def wake(self) -> None:
        self._wake.set()

    def running_jobs(self) -> int:
        """Jobs and crons dispatched and not finished yet (they keep the deployment awake)."""
        with self._lock:
            return len(self._inflight)

    def next_due_ms(self) -> float | None:
        """Unix ms of the earliest pending job or cron, overdue ones included; None if none.

        The control plane stores it before suspending the deployment and wakes it then."""
        txn = self.db.begin()
        times = [jobs.next_pending_ms(txn), crons.next_cron_ms(txn, 0.0)]
        due = [t for t in times if t is not None]
        return min(due) if due else None

    # ----- the loop ----------------------------------------------------------------------

    def _on_commit(self, record: CommitRecord) -> None:
        if SCHEDULED in record.tables or CRON_JOBS in record.tables:
            self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.tick()
            except Exception:
                log.exception("scheduler scan failed")
                delay = BUSY_POLL_S
            self._wake.wait(max(0.0, delay))
            self._wake.clear()

    def tick(self) -> float:
        """Dispatch everything due now; returns how long to sleep before the next scan."""
        if self.runner.analysis is None:
            return BUSY_POLL_S  # no code deployed yet: nothing can run
        now = jobs.now_ms()
        txn = self.db.begin()
        due = [(JOB, str(d["_id"])) for d in jobs.jobs_in_state(txn, jobs.PENDING, due_by_ms=now)]
        due += [(CRON, str(d["_id"])) for d in crons.due_crons(txn, now, SCAN_LIMIT)]
        waiting = False
        clock = time.monotonic()
        with self._lock:
            current = set(due)
            for key in list(self._inflight):
                if key not in current:
                    del self._inflight[key]  # finished (no longer due)
            to_send = []
            for key in due:
                sent = self._inflight.get(key)
                if sent is not None and clock - sent < self.lease_s:
                    waiting = True
                    continue
                self._inflight[key] = clock
                to_send.append(key)
        for kind, doc_id in to_send:
            self._dispatch(kind, doc_id)
        return self._next_delay(txn, now, waiting or bool(to_send))

    def _next_delay(self, txn: Any, now: float, busy: bool) -> float:
        times = [
            t
            for t in (self._next_future(txn, now), crons.next_cron_ms(txn, now))
            if t is not None and t > now
        ]
        delay = min([(t - now) / 1000.0 for t in times] + [MAX_SLEEP_S])
        return min(delay, BUSY_POLL_S) if busy else delay

    @staticmethod
    def _next_future(txn: Any, now: float) -> float | None:
        if SCHEDULED not in txn.db.table_names():
            return None
        from ..scheduled.tables import BY_STATE

        expr = [
            {"type": "Eq", "fieldPath": "state.kind", "value": jobs.PENDING},
            {"type": "Gt", "fieldPath": "scheduledTime", "value": float(now)},
        ]
        for doc in txn.index_scan(SCHEDULED, BY_STATE, expr):
            return float(doc["scheduledTime"])
        return None

    # ----- delivery ----------------------------------------------------------------------

    def _dispatch(self, kind: str, doc_id: str) -> None:
        self.dispatched += 1
        if self.celery is not None:
            try:
                self.celery.send(kind, doc_id)
            except Exception:
                log.exception("could not enqueue scheduled work; will retry", id=doc_id)
                with self._lock:
                    self._inflight.pop((kind, doc_id), None)
            return
        pool = self._pool
        if pool is None:
            return
        with contextlib.suppress(RuntimeError):  # shutting down
            pool.submit(self._run_local, kind, doc_id)

    def _run_local(self, kind: str, doc_id: str) -> None:
        result: str | None = None
        try:
            result = self.execute(kind, doc_id)
        finally:
            with self._lock:
                if result is None:  # not run (conflict, fault, or done elsewhere): back off
                    self._inflight[(kind, doc_id)] = time.monotonic() - self.lease_s + RETRY_S
                else:
                    self._inflight.pop((kind, doc_id), None)
            self._wake.set()

    def execute(self, kind: str, doc_id: str) -> str | None:
        """Run one job or cron now (what local threads and Celery tasks call)."""
        try:
            if kind == CRON:
                return executor.run_cron(self.runner, self.db, doc_id)
            return executor.run_job(self.runner, self.db, doc_id)
        except Exception:
            log.exception("scheduled work failed", kind=kind, id=doc_id)
            return None
