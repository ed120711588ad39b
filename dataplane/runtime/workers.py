"""Threads for actions' host work: a cached pool (reused threads, so per-thread database
connections are reused too, yet never starved by nested calls) and one timer thread."""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)
Job = Callable[[], None]


class CachedThreads:
    """Runs each job on an idle worker or a new one; workers exit after `idle_seconds`.

    Unbounded on purpose: a nested ctx.runAction holds its worker while its own operations
    need others, so a fixed-size pool could deadlock.
    """

    def __init__(self, idle_seconds: float = 300.0) -> None:
        self.idle_seconds = idle_seconds
        self._idle: list[queue.SimpleQueue[Job]] = []
        self._lock = threading.Lock()
        self._names = itertools.count(1)

    def submit(self, job: Job) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(
                target=self._work,
                args=(inbox,),
                name=f"strata-action-{next(self._names)}",
                daemon=True,
            ).start()
        inbox.put(job)

    def _work(self, inbox: queue.SimpleQueue[Job]) -> None:
        while True:
            try:
                job = inbox.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # a submitter took this worker just now: its job is coming
            try:
                job()
            except Exception:
                log.exception("action host job failed")
            with self._lock:
                self._idle.append(inbox)


class Timers:
    """One thread firing callbacks at deadlines (setTimeout in actions)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Job]] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def call_later(self, seconds: float, job: Job) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._seq), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="strata-timers", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._cond.wait(timeout)
                _, _, job = heapq.heappop(self._heap)
            try:
                job()
            except Exception:
                log.exception("timer callback failed")


THREADS = CachedThreads()
TIMERS = Timers()
