"""Registering the crons of `convex/crons.ts` at deploy, in the push's activation transaction.

The deployed set replaces the previous one atomically: unchanged jobs keep their next run,
changed ones are rescheduled, removed ones disappear - all in the transaction that switches
the modules, so no process ever sees new code with old crons or the reverse.
"""

from __future__ import annotations

from typing import Any

from ..transactions import Transaction
from ..values import ConvexValueError, from_json
from . import jobs
from .schedules import ScheduleError, next_run_ms, validate
from .tables import BY_NEXT_RUN, CRON_JOBS, ensure_tables


class CronError(ValueError):
    """A cron definition that cannot be deployed."""


def _spec(name: str, job: Any) -> dict[str, Any]:
    if not isinstance(job, dict) or not isinstance(job.get("name"), str):
        raise CronError(f"Cron job {name!r} has no function to run")
    schedule = job.get("schedule")
    try:
        validate(schedule, name)
    except ScheduleError as e:
        raise CronError(str(e)) from None
    raw = job.get("args")
    try:
        args = from_json(raw[0]) if isinstance(raw, list) and raw else {}
    except ConvexValueError as e:
        raise CronError(f"Cron job {name!r} has invalid arguments: {e}") from None
    if not isinstance(args, dict):
        raise CronError(f"Cron job {name!r} arguments must be an object")
    # Numbers as floats (JSON numbers), so a stored spec compares equal to a re-deployed one.
    return {"udfPath": job["name"], "udfArgs": [args], "cronSchedule": from_json(schedule)}


def check_crons(crons: dict[str, Any]) -> None:
    """Fail a push whose crons are malformed before anything is written."""
    for name, job in crons.items():
        _spec(name, job)


def register(
    txn: Transaction,
    crons: dict[str, Any],
    component_crons: dict[str, dict[str, Any]] | None = None,
) -> dict[str, list[str]]:
    """Make `_cron_jobs` exactly `crons` (the `Crons.crons` object) plus each component
    instance's (`component_crons`: component path -> its crons, functions named by their
    full paths); returns the diff. A component's cron names are its own (two instances may
    both have "cleanup"): its jobs carry `component`, and diff names are `path/name`."""
    ensure_tables(txn.db)
    wanted = {("", name): _spec(name, job) for name, job in crons.items()}
    for instance, jobs_of in (component_crons or {}).items():
        wanted.update({(instance, name): _spec(name, job) for name, job in jobs_of.items()})
    existing = {
        (str(d.get("component") or ""), str(d["name"])): d for d in txn.table_scan(CRON_JOBS)
    }
    now = jobs.now_ms()
    diff: dict[str, list[str]] = {"added": [], "updated": [], "deleted": []}
    for key, doc in existing.items():
        if key not in wanted:
            txn.delete(str(doc["_id"]))
            diff["deleted"].append(_label(key))
    for key, spec in wanted.items():
        old = existing.get(key)
        if old is not None and old.get("cronSpec") == spec:
            continue
        instance, name = key
        doc = {
            "name": name,
            "cronSpec": spec,
            "nextTs": next_run_ms(spec["cronSchedule"], name, now, None),
        }
        if instance:
            doc["component"] = instance
        if old is None:
            txn.insert(CRON_JOBS, doc)
            diff["added"].append(_label(key))
        else:
            txn.replace(str(old["_id"]), doc)
            diff["updated"].append(_label(key))
    return {k: sorted(v) for k, v in diff.items()}


def _label(key: tuple[str, str]) -> str:
    return f"{key[0]}/{key[1]}" if key[0] else key[1]


def due_crons(txn: Transaction, now_ms: float, limit: int = 256) -> list[dict[str, Any]]:
    """Crons whose next run is at or before `now_ms`."""
    if CRON_JOBS not in txn.db.table_names():
        return []
    expr = [{"type": "Lte", "fieldPath": "nextTs", "value": float(now_ms)}]
    out = []
    for doc in txn.index_scan(CRON_JOBS, BY_NEXT_RUN, expr):
        out.append(doc)
        if len(out) >= limit:
            break
    return out


def next_cron_ms(txn: Transaction, after_ms: float) -> float | None:
    """The earliest next run of any cron later than `after_ms`."""
    if CRON_JOBS not in txn.db.table_names():
        return None
    expr = [{"type": "Gt", "fieldPath": "nextTs", "value": float(after_ms)}]
    for doc in txn.index_scan(CRON_JOBS, BY_NEXT_RUN, expr):
        return float(doc["nextTs"])
    return None
