"""The activity report: how a data plane tells its supervisor whether it may be suspended.

Scale to zero (the control plane stops an idle deployment's processes and wakes them on the
next request) needs three facts only the data plane knows: how long it has been idle, what
still holds it awake (open sync sockets, requests in flight, scheduled functions running),
and when its next scheduled function or cron is due, so the control plane can wake it then.

    GET ACTIVITY_PATH  (admin key: `Authorization: Convex <key>`)
    200 {"idleSeconds": float, "openSockets": int, "inflightRequests": int,
         "runningJobs": int, "nextDueMs": float | null}

`idleSeconds` is measured on the data plane's own monotonic clock (no clock skew between
hosts) and is 0 while anything is in flight. `nextDueMs` is unix milliseconds (the scheduler
stores due times that way); it may be in the past when work is overdue. Health probes and this
endpoint itself do not count as activity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

ACTIVITY_PATH = "/api/_strata/activity"
#: Paths whose requests never keep a deployment awake (supervisor and orchestrator probes).
PROBE_PATHS = frozenset({ACTIVITY_PATH, "/healthz", "/readyz", "/instance_name"})


class ActivityReportError(ValueError):
    """A report that does not have the documented shape."""


@dataclass(frozen=True)
class ActivityReport:
    idle_seconds: float
    open_sockets: int = 0
    inflight_requests: int = 0
    running_jobs: int = 0
    next_due_ms: float | None = None

    @property
    def busy(self) -> bool:
        return bool(self.open_sockets or self.inflight_requests or self.running_jobs)

    def to_json(self) -> dict[str, Any]:
        return {
            "idleSeconds": self.idle_seconds,
            "openSockets": self.open_sockets,
            "inflightRequests": self.inflight_requests,
            "runningJobs": self.running_jobs,
            "nextDueMs": self.next_due_ms,
        }

    @classmethod
    def from_json(cls, raw: Any) -> ActivityReport:
        if not isinstance(raw, dict):
            raise ActivityReportError("activity report must be a JSON object")
        try:
            idle = float(raw["idleSeconds"])
            keys = ("openSockets", "inflightRequests", "runningJobs")
            counts = [int(raw.get(k, 0)) for k in keys]
            due = raw.get("nextDueMs")
            next_due = None if due is None else float(due)
        except (KeyError, TypeError, ValueError) as exc:
            raise ActivityReportError(f"malformed activity report: {exc}") from None
        if not math.isfinite(idle) or idle < 0 or min(counts) < 0:
            raise ActivityReportError("activity report has negative or infinite values")
        if next_due is not None and not math.isfinite(next_due):
            raise ActivityReportError("nextDueMs must be finite or null")
        return cls(idle, counts[0], counts[1], counts[2], next_due)
