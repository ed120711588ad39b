"""Per-function health over time: calls, failures and latency percentiles per minute.

What the console's Health page charts (Convex's insights: which function is called most, which
fails, which is slow). Fed by the runner like the log stream, but aggregated as calls finish, so
it covers hours of traffic in bounded memory instead of the log ring's last 10,000 executions.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .outcomes import FunctionLog

BUCKET_MS = 60_000
RETAINED_BUCKETS = 6 * 60  # six hours of minutes
SAMPLES_PER_BUCKET = 512  # latency reservoir per function and minute: percentiles stay cheap


@dataclass
class _Bucket:
    calls: int = 0
    errors: int = 0
    seen: int = 0  # durations offered to the reservoir
    durations: list[float] = field(default_factory=list)

    def add(self, duration_ms: float, failed: bool, rng: random.Random) -> None:
        self.calls += 1
        self.errors += int(failed)
        self.seen += 1
        if len(self.durations) < SAMPLES_PER_BUCKET:
            self.durations.append(duration_ms)
        else:  # reservoir sampling keeps a uniform sample of the minute's latencies
            slot = rng.randrange(self.seen)
            if slot < SAMPLES_PER_BUCKET:
                self.durations[slot] = duration_ms


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), math.ceil(q * len(sorted_values))))
    return sorted_values[rank - 1]


class FunctionMetrics:
    """Minute buckets per function path, the last RETAINED_BUCKETS minutes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[int, dict[str, _Bucket]] = {}
        self._rng = random.Random()

    def on_function_log(self, log: FunctionLog) -> None:
        """Runner log listener."""
        minute = int(log.started_at // BUCKET_MS)
        with self._lock:
            per_fn = self._buckets.get(minute)
            if per_fn is None:
                per_fn = self._buckets[minute] = {}
                oldest = minute - RETAINED_BUCKETS
                for stale in [m for m in self._buckets if m <= oldest]:
                    del self._buckets[stale]
            bucket = per_fn.get(log.path)
            if bucket is None:
                bucket = per_fn[log.path] = _Bucket()
            bucket.add(log.duration_ms, not log.success, self._rng)

    def summary(self, now_ms: float, minutes: int) -> dict[str, Any]:
        """The last `minutes` minutes up to `now_ms`, one series per function, oldest first."""
        minutes = max(1, min(minutes, RETAINED_BUCKETS))
        last = int(now_ms // BUCKET_MS)
        first = last - minutes + 1
        with self._lock:
            window = {
                m: {path: (b.calls, b.errors, sorted(b.durations)) for path, b in fns.items()}
                for m, fns in self._buckets.items()
                if first <= m <= last
            }
        paths = sorted({p for fns in window.values() for p in fns})
        functions: list[dict[str, Any]] = []
        for path in paths:
            calls, errors, p50, p99 = [], [], [], []
            all_durations: list[float] = []
            for m in range(first, last + 1):
                c, e, durations = window.get(m, {}).get(path, (0, 0, []))
                calls.append(c)
                errors.append(e)
                p50.append(percentile(durations, 0.5))
                p99.append(percentile(durations, 0.99))
                all_durations.extend(durations)
            all_durations.sort()
            functions.append(
                {
                    "path": path,
                    "calls": calls,
                    "errors": errors,
                    "p50Ms": p50,
                    "p99Ms": p99,
                    "totalCalls": sum(calls),
                    "totalErrors": sum(errors),
                    "overallP50Ms": percentile(all_durations, 0.5),
                    "overallP99Ms": percentile(all_durations, 0.99),
                }
            )
        functions.sort(key=lambda f: -sum(f["calls"]))
        return {
            "bucketMs": BUCKET_MS,
            "startMs": first * BUCKET_MS,
            "buckets": minutes,
            "functions": functions,
        }
