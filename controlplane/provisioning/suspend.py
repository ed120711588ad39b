"""Scale to zero: suspend idle deployments, wake them on demand or when their work is due.

Modelled on Neon's compute suspend: a deployment that has had no request, no open socket and
no scheduled work for STRATA_SUSPEND_AFTER_S has its processes stopped (gracefully: the data
plane finishes requests in flight; its data is in its database and data dir, so a start
resumes where it stopped). The gateway holds the next request for it while it starts, and a
loop wakes it shortly before its next scheduled function or cron is due (asked of the data
plane before suspending, stored as `wake_at`).

Races: the gateway counts the requests and sockets it proxies per deployment (`acquire` /
`release`); a suspend starts only when none is open, and a request arriving during a suspend
waits for it to finish and then wakes the deployment. Status changes and audit events go
through the deployments' actions layer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from .gateway import WakeTimeout

if TYPE_CHECKING:
    from controlplane.deployments.models import Deployment

    from .drivers import ProvisioningDriver

log = logging.getLogger(__name__)
#: Wake this long before scheduled work is due: a start takes about a second.
WAKE_LEAD_S = 2.0
#: How long a wake keeps waiting for a slow start after the gateway gave up on it.
START_PATIENCE_S = 120.0
HEALTH_POLL_S = 0.02


@dataclass
class _Entry:
    """The gateway's view of one deployment."""

    inflight: int = 0
    last_seen: float = 0.0  # monotonic time the last proxied request or socket ended
    suspending: threading.Event | None = None  # set when the suspend in progress is done
    waking: Future[str | None] | None = None


class Suspender:
    """Suspends idle deployments of one driver and wakes them (the gateway's Waker)."""

    def __init__(
        self,
        driver: ProvisioningDriver,
        *,
        idle_after_s: float,
        check_s: float = 5.0,
        wake_timeout_s: float = 30.0,
    ) -> None:
        self.driver = driver
        self.idle_after_s = idle_after_s
        self.check_s = check_s
        self.wake_timeout_s = wake_timeout_s
        self._lock = threading.RLock()  # a done future's callback may run while it is held
        self._entries: dict[str, _Entry] = {}
        self._wakers = ThreadPoolExecutor(8, thread_name_prefix="strata-wake")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is None:
            entry = self._entries[name] = _Entry()
        return entry

    # ---- the gateway's side ---------------------------------------------------------------

    async def acquire(self, name: str, via: str) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wake_timeout_s
        while True:
            with self._lock:
                entry = self._entry(name)
                waking = entry.waking
                if waking is not None and waking.done():
                    waking = None  # woken a moment ago (its callback has not run yet)
                if waking is None and entry.suspending is None:
                    upstream = self.driver.upstream(name)
                    if upstream is not None:
                        entry.inflight += 1
                        return upstream
            if waking is None:
                waking = self.wake(name, via)
            try:
                woken = await asyncio.wait_for(
                    asyncio.shield(asyncio.wrap_future(waking)), deadline - loop.time()
                )
            except TimeoutError:
                retry = max(1, round(self.wake_timeout_s / 3))
                raise WakeTimeout(name, retry_after=retry) from None
            except Exception as exc:
                log.error("waking %s failed: %s", name, exc)
                raise WakeTimeout(name, retry_after=5) from exc
            if woken is None:
                return None  # neither running nor suspended: the gateway answers 404

    def release(self, name: str) -> None:
        with self._lock:
            entry = self._entry(name)
            entry.inflight -= 1
            entry.last_seen = time.monotonic()

    # ---- waking ---------------------------------------------------------------------------

    def wake(self, name: str, via: str) -> Future[str | None]:
        """Start `name` if it is suspended (once, however many callers ask); the future
        gives its upstream URL once it answers, None if it is not suspended."""
        with self._lock:
            entry = self._entry(name)
            if entry.waking is None:
                entry.waking = self._wakers.submit(self._wake, name, via)
                entry.waking.add_done_callback(lambda _: self._woken(name))
            return entry.waking

    def _woken(self, name: str) -> None:
        with self._lock:
            self._entry(name).waking = None

    def _wake(self, name: str, via: str) -> str | None:
        from controlplane.deployments.actions import resume_deployment, spec_for

        with self._lock:
            suspending = self._entry(name).suspending
        if suspending is not None:
            suspending.wait()  # a suspend under way finishes first
        deployment = resume_deployment(name, reason=via)
        if deployment is None:
            return self.driver.upstream(name)  # running after all, or unknown (None)
        started = time.monotonic()
        self.driver.start(spec_for(deployment), wait=0)
        upstream = self.driver.upstream(name)
        if upstream is None:
            return None
        self._wait_healthy(name, upstream)
        log.info("woke %s (%s) in %.2fs", name, via, time.monotonic() - started)
        return upstream

    def _wait_healthy(self, name: str, upstream: str) -> None:
        deadline = time.monotonic() + START_PATIENCE_S
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(f"{upstream}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(HEALTH_POLL_S)
        raise RuntimeError(f"deployment {name} did not start within {START_PATIENCE_S:.0f}s")

    # ---- suspending -----------------------------------------------------------------------

    def check(self) -> None:
        """One pass: suspend what has been idle long enough, wake what has work due."""
        from controlplane.deployments.models import Deployment, Status

        for deployment in Deployment.objects.filter(status=Status.RUNNING):
            try:
                self._maybe_suspend(deployment)
            except Exception:
                log.exception("suspending %s failed", deployment.name)
        soon = datetime.now(UTC) + timedelta(seconds=WAKE_LEAD_S + self.check_s)
        due = Deployment.objects.filter(status=Status.SUSPENDED, wake_at__lte=soon)
        for name in due.values_list("name", flat=True):
            self.wake(name, "schedule")

    @staticmethod
    def _idle(entry: _Entry, idle_after_s: float) -> bool:
        recent = time.monotonic() - entry.last_seen < idle_after_s
        return not (entry.inflight or entry.waking or entry.suspending or recent)

    def _maybe_suspend(self, deployment: Deployment) -> None:
        from controlplane.deployments.actions import suspend_deployment

        from .client import DataPlaneClient

        name = deployment.name
        idle_after = deployment.suspend_after_s
        if idle_after is None:
            idle_after = self.idle_after_s
        upstream = self.driver.upstream(name)
        with self._lock:
            if not idle_after or upstream is None or not self._idle(self._entry(name), idle_after):
                return
        report = DataPlaneClient(upstream, name, deployment.instance_secret).activity()
        if report is None or report.busy or report.idle_seconds < idle_after:
            return
        if report.next_due_ms is not None:
            due_in = report.next_due_ms / 1000.0 - time.time()
            if due_in < idle_after + WAKE_LEAD_S + self.check_s:
                return  # due before it would be woken anyway: stay up
        with self._lock:
            entry = self._entry(name)
            if not self._idle(entry, idle_after):
                return
            done = entry.suspending = threading.Event()
        try:
            self.driver.stop(name)  # SIGTERM: requests in flight finish first
            wake_at = (
                None
                if report.next_due_ms is None
                else datetime.fromtimestamp(report.next_due_ms / 1000.0, UTC)
            )
            suspend_deployment(name, idle_seconds=report.idle_seconds, wake_at=wake_at)
            log.info("suspended %s after %.0fs idle", name, report.idle_seconds)
        finally:
            with self._lock:
                entry.suspending = None
            done.set()

    # ---- lifetime -------------------------------------------------------------------------

    def start(self) -> None:
        """Check every `check_s` seconds in a daemon thread until `stop()`."""
        if self._thread is not None:
            return

        def loop() -> None:
            from django.db import close_old_connections

            while not self._stop.wait(self.check_s):
                try:
                    self.check()
                except Exception:
                    log.exception("looking for idle deployments failed")
                finally:
                    close_old_connections()

        self._thread = threading.Thread(target=loop, name="strata-suspender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._wakers.shutdown(wait=False, cancel_futures=True)


_lock = threading.Lock()
_suspender: Suspender | None = None


def get_suspender() -> Suspender | None:
    """The process-wide suspender when STRATA_SUSPEND_AFTER_S is set (else None)."""
    global _suspender
    from django.conf import settings

    from .drivers import get_driver

    with _lock:
        if _suspender is None and settings.STRATA_SUSPEND_AFTER_S:
            _suspender = Suspender(
                get_driver(),
                idle_after_s=settings.STRATA_SUSPEND_AFTER_S,
                check_s=settings.STRATA_SUSPEND_CHECK_S,
                wake_timeout_s=settings.STRATA_WAKE_TIMEOUT_S,
            )
        return _suspender


def set_suspender(suspender: Suspender | None) -> Suspender | None:
    """Install a suspender explicitly (tests); returns the previous one."""
    global _suspender
    with _lock:
        previous, _suspender = _suspender, suspender
        return previous
