"""Next-run computation for every cron schedule shape convex/server's cronJobs() produces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dataplane.scheduled.schedules import (
    ScheduleError,
    cron_string,
    default_minute,
    next_run_ms,
    validate,
)


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000


NOW = ms(2026, 3, 14, 10, 20, 30)  # a Saturday


def at(value: float) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def test_interval_runs_now_first_then_every_period_after_the_previous_run() -> None:
    assert next_run_ms({"type": "interval", "seconds": 30}, "j", NOW, None) == NOW
    assert next_run_ms({"type": "interval", "seconds": 30}, "j", NOW, NOW) == NOW + 30_000
    assert next_run_ms({"type": "interval", "minutes": 5}, "j", NOW, NOW) == NOW + 300_000
    assert next_run_ms({"type": "interval", "hours": 2}, "j", NOW, NOW) == NOW + 7_200_000


def test_hourly_daily_weekly_monthly() -> None:
    assert at(next_run_ms({"type": "hourly", "minuteUTC": 5}, "j", NOW, None)) == datetime(
        2026, 3, 14, 11, 5, tzinfo=UTC
    )
    assert at(next_run_ms({"type": "hourly", "minuteUTC": 45}, "j", NOW, None)) == datetime(
        2026, 3, 14, 10, 45, tzinfo=UTC
    )
    daily = {"type": "daily", "hourUTC": 3, "minuteUTC": 15}
    assert at(next_run_ms(daily, "j", NOW, None)) == datetime(2026, 3, 15, 3, 15, tzinfo=UTC)
    weekly = {"type": "weekly", "dayOfWeek": "monday", "hourUTC": 17, "minuteUTC": 30}
    assert at(next_run_ms(weekly, "j", NOW, None)) == datetime(2026, 3, 16, 17, 30, tzinfo=UTC)
    monthly = {"type": "monthly", "day": 1, "hourUTC": 0, "minuteUTC": 0}
    assert at(next_run_ms(monthly, "j", NOW, None)) == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def test_calendar_schedules_advance_strictly_after_the_previous_run() -> None:
    spec = {"type": "daily", "hourUTC": 10, "minuteUTC": 20}
    first = next_run_ms(spec, "j", ms(2026, 3, 14, 10, 0), None)
    assert at(first) == datetime(2026, 3, 14, 10, 20, tzinfo=UTC)
    assert at(next_run_ms(spec, "j", first, first)) == datetime(2026, 3, 15, 10, 20, tzinfo=UTC)


def test_cron_strings() -> None:
    every5 = {"type": "cron", "cron": "*/5 * * * *"}
    assert at(next_run_ms(every5, "j", NOW, None)) == datetime(2026, 3, 14, 10, 25, tzinfo=UTC)
    weekdays = {"type": "cron", "cron": "0 9 * * 1-5"}
    assert at(next_run_ms(weekdays, "j", NOW, None)) == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def test_missing_minute_is_stable_per_job_and_spread() -> None:
    assert cron_string({"type": "hourly"}, "a") == cron_string({"type": "hourly"}, "a")
    minutes = {default_minute(f"job-{i}") for i in range(50)}
    assert len(minutes) > 10
    assert cron_string({"type": "daily", "hourUTC": 4}, "x") == f"{default_minute('x')} 4 * * *"


@pytest.mark.parametrize(
    "spec",
    [
        None,
        {"type": "interval"},
        {"type": "interval", "seconds": 1, "minutes": 1},
        {"type": "interval", "seconds": 0},
        {"type": "interval", "seconds": 1.5},
        {"type": "hourly", "minuteUTC": 60},
        {"type": "daily", "hourUTC": 24},
        {"type": "weekly", "dayOfWeek": "funday", "hourUTC": 1},
        {"type": "monthly", "day": 32, "hourUTC": 1},
        {"type": "cron", "cron": "not a cron"},
        {"type": "cron", "cron": "* * * * * *"},
        {"type": "yearly"},
    ],
)
def test_invalid_schedules_are_rejected(spec: object) -> None:
    with pytest.raises(ScheduleError):
        validate(spec, "bad")
