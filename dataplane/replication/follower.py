"""The replica's background thread: follow the committer's log, take over if it goes away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

from ..transactions import Database

log = structlog.get_logger(__name__)
POLL_S = 0.05
# Between attempts to take the committer lock (each opens a database connection) and, on the
# committer, checks that it still holds it. By the clock, not by polls: announcements wake
# the loop once per commit, so counting turns made a busy replica reconnect more often.
TAKEOVER_EVERY_S = 0.5


class Follower:
    """Replica: polls the log (woken early by announcements), tries to take over.

    Committer: checks it still holds the lock, so a process cut off from its database stops
    acting as committer instead of serving a frozen snapshot.
    """

    def __init__(self, db: Database, on_promote: Callable[[], None]) -> None:
        self.db = db
        self.on_promote = on_promote
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="strata-replica", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Thread-safe: the committer announced a commit; poll now."""
        self._wake.set()

    def _run(self) -> None:
        next_check = time.monotonic() + TAKEOVER_EVERY_S
        while not self._stop.is_set():
            self._wake.wait(POLL_S)
            self._wake.clear()
            now = time.monotonic()
            due = now >= next_check
            if due:
                next_check = now + TAKEOVER_EVERY_S
            try:
                if self.db.replica:
                    self.db.follow()
                    if due:
                        self._try_takeover()
                elif due:
                    self.db.check_committer()  # demotes itself if its lock went away
            except Exception:
                log.exception("following the committer failed")
                self._stop.wait(0.5)

    def _try_takeover(self) -> None:
        if not self.db.try_take_committer_lock():
            return
        self.db.promote()
        log.info("promoted to committer", latest_ts=self.db.latest_ts())
        self.on_promote()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
