"""What keeps this process busy: requests in flight, open sync sockets, time since the last.

The ASGI entry (asgi.py) counts every request and socket here; the supervisor reads it through
the activity endpoint (contract/activity.py) to decide when an idle deployment may be
suspended, and a graceful stop (serving.py) waits for requests in flight to finish.
"""

from __future__ import annotations

import threading
import time


class Activity:
    """Counters shared by the event loop and worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._sockets = 0
        self._last = time.monotonic()

    def request_started(self) -> None:
        with self._lock:
            self._requests += 1

    def request_finished(self) -> None:
        with self._lock:
            self._requests -= 1
            self._last = time.monotonic()

    def socket_opened(self) -> None:
        with self._lock:
            self._sockets += 1

    def socket_closed(self) -> None:
        with self._lock:
            self._sockets -= 1
            self._last = time.monotonic()

    @property
    def inflight_requests(self) -> int:
        return self._requests

    @property
    def open_sockets(self) -> int:
        return self._sockets

    def idle_seconds(self) -> float:
        """Seconds since the last request or socket ended; 0 while any is open."""
        with self._lock:
            if self._requests or self._sockets:
                return 0.0
            return max(0.0, time.monotonic() - self._last)
