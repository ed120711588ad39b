"""Next run times of cron jobs, for every schedule shape `cronJobs()` in convex/server emits.

Intervals run first at registration and then every N seconds after the previous run (like
Convex); the calendar shapes are turned into 5-field cron strings evaluated in UTC by croniter.
A missing `minuteUTC` gets a stable per-job minute so hourly jobs spread across the hour.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any

from croniter import CroniterBadCronError, croniter

NEVER_MS = 8.64e15  # the last millisecond JavaScript dates can represent
DAYS_OF_WEEK = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


class ScheduleError(ValueError):
    """A cron schedule that cannot be run (bad shape or bad cron string)."""


def _int_field(spec: dict[str, Any], key: str, lo: int, hi: int) -> int:
    value = spec.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise ScheduleError(f"Cron schedule field {key!r} must be an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise ScheduleError(f"Cron schedule field {key!r} must be from {lo} to {hi}, got {value}")
    return int(value)


def default_minute(job_name: str) -> int:
    """The minute a job without `minuteUTC` runs at: stable for the name, spread over the hour."""
    return hashlib.sha256(job_name.encode()).digest()[0] % 60


def _minute(spec: dict[str, Any], job_name: str) -> int:
    if spec.get("minuteUTC") is None:
        return default_minute(job_name)
    return _int_field(spec, "minuteUTC", 0, 59)


def interval_seconds(spec: dict[str, Any]) -> int:
    """Length of an interval schedule in seconds (`seconds`, `minutes` or `hours`)."""
    units = [(k, m) for k, m in (("seconds", 1), ("minutes", 60), ("hours", 3600)) if k in spec]
    if len(units) != 1:
        raise ScheduleError("An interval schedule needs exactly one of seconds, minutes, hours")
    key, mult = units[0]
    return _int_field(spec, key, 1, 10**9) * mult


def cron_string(spec: dict[str, Any], job_name: str) -> str:
    """The 5-field UTC cron expression equivalent to a calendar schedule."""
    kind = spec.get("type")
    if kind == "cron":
        expr = spec.get("cron")
        if not isinstance(expr, str) or not croniter.is_valid(expr):
            raise ScheduleError(f"Invalid cron string {expr!r} for cron job {job_name!r}")
        if len(expr.split()) != 5:
            raise ScheduleError(
                f"Cron string {expr!r} for cron job {job_name!r} must have 5 fields"
            )
        return expr
    minute = _minute(spec, job_name)
    if kind == "hourly":
        return f"{minute} * * * *"
    hour = _int_field(spec, "hourUTC", 0, 23)
    if kind == "daily":
        return f"{minute} {hour} * * *"
    if kind == "weekly":
        day = spec.get("dayOfWeek")
        if day not in DAYS_OF_WEEK:
            raise ScheduleError(f"Invalid dayOfWeek {day!r} for cron job {job_name!r}")
        return f"{minute} {hour} * * {DAYS_OF_WEEK.index(day)}"
    if kind == "monthly":
        day_of_month = _int_field(spec, "day", 1, 31)
        return f"{minute} {hour} {day_of_month} * *"
    raise ScheduleError(f"Unknown cron schedule type {kind!r} for cron job {job_name!r}")


def validate(spec: Any, job_name: str) -> None:
    """Raise ScheduleError unless `spec` is a schedule this module can compute."""
    if not isinstance(spec, dict):
        raise ScheduleError(f"Cron job {job_name!r} has no schedule object")
    if spec.get("type") == "interval":
        interval_seconds(spec)
    else:
        cron_string(spec, job_name)


def next_run_ms(spec: dict[str, Any], job_name: str, now_ms: float, prev_ms: float | None) -> float:
    """When the job runs next (ms since epoch), strictly after a previous run if any.

    Intervals: `now` for a new job, else `prev + interval`. Calendar schedules: the first
    matching minute after max(now, prev) - runs missed while the server was down are skipped.
    """
    if spec.get("type") == "interval":
        if prev_ms is None:
            return float(now_ms)
        return float(prev_ms) + interval_seconds(spec) * 1000.0
    expr = cron_string(spec, job_name)
    base = max(now_ms, prev_ms if prev_ms is not None else now_ms)
    start = datetime.fromtimestamp(base / 1000.0, tz=UTC)
    try:
        nxt: float = croniter(expr, start).get_next(float)
    except CroniterBadCronError as e:
        raise ScheduleError(f"Invalid cron string {expr!r} for cron job {job_name!r}: {e}") from e
    return nxt * 1000.0
