"""Writing and reading `_scheduled_functions` inside a caller's transaction.

Scheduling is a plain insert in the scheduling mutation's own transaction, so a mutation that
fails or rolls back schedules nothing; cancelling is a patch in the same way.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..ids import decode_id
from ..transactions import Transaction
from .tables import BY_STATE, SCHEDULED, ensure_tables

PENDING = "pending"
IN_PROGRESS = "inProgress"
SUCCESS = "success"
FAILED = "failed"
CANCELED = "canceled"
TERMINAL = frozenset({SUCCESS, FAILED, CANCELED})

MAX_SCHEDULED_PER_CALL = 1000


#: The component path that scheduled a job (absent for the app's own jobs): each component
#: sees only the jobs it scheduled, as Convex keeps `_scheduled_functions` per component.
JOB_OWNER = "component"


def owner_of(job: dict[str, Any]) -> str:
    return str(job.get(JOB_OWNER) or "")


class ScheduleError(ValueError):
    """Bad input to ctx.scheduler (user-visible message)."""


def now_ms() -> float:
    return time.time() * 1000.0


def schedule(
    txn: Transaction, name: str, args: dict[str, Any], ts_seconds: Any, owner: str = ""
) -> str:
    """Insert a pending job running `name(args)` at `ts_seconds` (unix seconds); returns its id."""
    if isinstance(ts_seconds, bool) or not isinstance(ts_seconds, int | float):
        raise ScheduleError(f"Scheduled time must be a number of seconds, got {ts_seconds!r}")
    if not math.isfinite(ts_seconds):
        raise ScheduleError("Scheduled time must be a finite number")
    if not isinstance(args, dict):
        raise ScheduleError("Arguments of a scheduled function must be an object")
    ensure_tables(txn.db)
    doc = {
        "name": name,
        "args": [args],
        "scheduledTime": float(ts_seconds) * 1000.0,
        "state": {"kind": PENDING},
    }
    if owner:
        doc[JOB_OWNER] = owner
    return txn.insert(SCHEDULED, doc)


def cancel(txn: Transaction, job_id: Any, owner: str | None = "") -> None:
    """Mark a pending or running job canceled; finished jobs are left as they are.
    `owner`: the canceling component ("" the app); None (the dashboard) cancels any job."""
    if not isinstance(job_id, str) or decode_id(job_id) is None:
        raise ScheduleError(f"Invalid scheduled function id {job_id!r}")
    if txn.table_for_id(job_id) != SCHEDULED:
        raise ScheduleError(f"{job_id} is not an id of the _scheduled_functions table")
    job = txn.get(job_id)
    if job is None or (owner is not None and owner_of(job) != owner):
        raise ScheduleError(f"Scheduled function {job_id} does not exist")
    if state_of(job) in TERMINAL:
        return
    txn.patch(job_id, {"state": {"kind": CANCELED}, "completedTime": now_ms()})


def state_of(job: dict[str, Any]) -> str:
    state = job.get("state")
    return str(state.get("kind")) if isinstance(state, dict) else ""


def finish(txn: Transaction, job_id: str, error: str | None) -> None:
    """Record a job's outcome: success, or failed with the error message."""
    state: dict[str, Any] = {"kind": SUCCESS} if error is None else {"kind": FAILED, "error": error}
    txn.patch(job_id, {"state": state, "completedTime": now_ms()})


def jobs_in_state(
    txn: Transaction, kind: str, *, due_by_ms: float | None = None, limit: int = 256
) -> list[dict[str, Any]]:
    """Jobs in one state, earliest first (optionally only those due by `due_by_ms`)."""
    if SCHEDULED not in txn.db.table_names():
        return []
    expr: list[dict[str, Any]] = [{"type": "Eq", "fieldPath": "state.kind", "value": kind}]
    if due_by_ms is not None:
        expr.append({"type": "Lte", "fieldPath": "scheduledTime", "value": float(due_by_ms)})
    out = []
    for doc in txn.index_scan(SCHEDULED, BY_STATE, expr):
        out.append(doc)
        if len(out) >= limit:
            break
    return out


def next_pending_ms(txn: Transaction) -> float | None:
    """scheduledTime of the earliest pending job, if any."""
    first = jobs_in_state(txn, PENDING, limit=1)
    return float(first[0]["scheduledTime"]) if first else None
