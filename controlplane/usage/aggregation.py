"""Usage totals per deployment and per team for the current calendar month (UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from controlplane.deployments.models import Deployment
from controlplane.teams.models import Team

from .models import DailyUsage
from .quotas import MB_MS_PER_GB_HOUR


@dataclass(frozen=True)
class UsageTotals:
    period_start: date
    function_calls: int = 0
    db_bytes_read: int = 0
    db_bytes_written: int = 0
    storage_bytes: int = 0
    action_compute_mb_ms: int = 0

    @property
    def action_gb_hours(self) -> float:
        return self.action_compute_mb_ms / MB_MS_PER_GB_HOUR

    def as_dict(self) -> dict[str, Any]:
        """The `/v1` shape: camelCase like every other field of the API."""
        return {
            "periodStart": self.period_start.isoformat(),
            "functionCalls": self.function_calls,
            "dbBytesRead": self.db_bytes_read,
            "dbBytesWritten": self.db_bytes_written,
            "storageBytes": self.storage_bytes,
            "actionComputeMbMs": self.action_compute_mb_ms,
            "actionGbHours": self.action_gb_hours,
        }


def month_start(today: date | None = None) -> date:
    return (today or timezone.now().date()).replace(day=1)


def _totals(rows: Any, start: date) -> UsageTotals:
    sums = rows.filter(day__gte=start).aggregate(
        function_calls=Sum("function_calls"),
        db_bytes_read=Sum("db_bytes_read"),
        db_bytes_written=Sum("db_bytes_written"),
        action_compute_mb_ms=Sum("action_compute_mb_ms"),
    )
    storage = 0
    latest_by_deployment: dict[int, int] = {}
    for deployment_id, value in rows.order_by("day").values_list("deployment_id", "storage_bytes"):
        latest_by_deployment[deployment_id] = value
    storage = sum(latest_by_deployment.values())
    return UsageTotals(
        period_start=start,
        storage_bytes=storage,
        **{k: int(v or 0) for k, v in sums.items()},
    )


def deployment_month_usage(deployment: Deployment) -> UsageTotals:
    start = month_start()
    return _totals(DailyUsage.objects.filter(deployment=deployment), start)


def team_month_usage(team: Team) -> UsageTotals:
    start = month_start()
    return _totals(DailyUsage.objects.filter(deployment__project__team=team), start)


def team_daily_usage(team: Team, today: date | None = None) -> list[dict[str, Any]]:
    """This month's usage per day (UTC), every day up to today, for the console's charts.

    Storage is a gauge: per day, the sum over deployments of the latest size reported so far."""
    today = today or timezone.now().date()
    start = month_start(today)
    rows = DailyUsage.objects.filter(deployment__project__team=team, day__gte=start, day__lte=today)
    per_day: dict[date, dict[str, int]] = {}
    storage_at: dict[date, dict[int, int]] = {}
    for r in rows.order_by("day"):
        d = per_day.setdefault(r.day, {"calls": 0, "read": 0, "written": 0, "mbms": 0})
        d["calls"] += r.function_calls
        d["read"] += r.db_bytes_read
        d["written"] += r.db_bytes_written
        d["mbms"] += r.action_compute_mb_ms
        storage_at.setdefault(r.day, {})[r.deployment_id] = r.storage_bytes
    out: list[dict[str, Any]] = []
    latest: dict[int, int] = {}
    day = start
    while day <= today:
        d = per_day.get(day, {"calls": 0, "read": 0, "written": 0, "mbms": 0})
        latest.update(storage_at.get(day, {}))
        out.append(
            {
                "day": day.isoformat(),
                "functionCalls": d["calls"],
                "dbBytesRead": d["read"],
                "dbBytesWritten": d["written"],
                "storageBytes": sum(latest.values()),
                "actionGbHours": d["mbms"] / MB_MS_PER_GB_HOUR,
            }
        )
        day += timedelta(days=1)
    return out
