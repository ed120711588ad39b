"""Metered usage: send each subscribed team's daily usage growth to Stripe billing meters.

The usage app keeps per-deployment daily counters. For each team, meter and day this sends the
difference between the day's total and what was already sent, as one meter event whose
`identifier` names the team, meter, day and new total, so a resend after a lost response is
deduplicated by Stripe and the local `MeterReport` moves forward only once Stripe accepted it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import stripe
from django.db.models import F, Sum
from django.utils import timezone

from controlplane.teams.models import Team
from controlplane.usage.aggregation import month_start
from controlplane.usage.models import DailyUsage

from .client import call, stripe_client
from .config import BillingConfig, billing_config
from .models import MeterReport, StripeCustomer
from .plans import ACTIVE_STATUSES

log = logging.getLogger(__name__)

# Stripe accepts meter events up to 35 days old; stay inside that window.
LOOKBACK_DAYS = 33


@dataclass(frozen=True)
class MeterEventSent:
    team_id: int
    meter: str
    day: date
    value: int


def _daily_totals(team: Team, since: date) -> dict[date, dict[str, int]]:
    rows = (
        DailyUsage.objects.filter(deployment__project__team=team, day__gte=since)
        .values("day")
        .annotate(
            function_calls=Sum("function_calls"),
            db_io_bytes=Sum(F("db_bytes_read") + F("db_bytes_written")),
            action_compute_mb_ms=Sum("action_compute_mb_ms"),
        )
    )
    return {
        row["day"]: {
            "function_calls": int(row["function_calls"] or 0),
            "db_io_bytes": int(row["db_io_bytes"] or 0),
            "action_compute_mb_ms": int(row["action_compute_mb_ms"] or 0),
        }
        for row in rows
    }


def _timestamp(day: date) -> int:
    """The event time: the end of that day, or now for today (Stripe rejects future times)."""
    end = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    return int(min(end, timezone.now()).timestamp())


def _send_meter_event(client: stripe.StripeClient, params: dict[str, Any], key: str) -> None:
    call(
        "meter event",
        lambda: client.v1.billing.meter_events.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": key},
        ),
    )


def report_team_usage(team: Team, config: BillingConfig | None = None) -> list[MeterEventSent]:
    config = config or billing_config()
    customer = StripeCustomer.objects.filter(team=team).first()
    if customer is None:
        return []
    today = timezone.now().date()
    since = max(
        month_start(today) - timedelta(days=LOOKBACK_DAYS), today - timedelta(LOOKBACK_DAYS)
    )
    sent: list[MeterEventSent] = []
    client = stripe_client(config)
    for day, totals in sorted(_daily_totals(team, since).items()):
        for meter, total in totals.items():
            event_name = config.meters.get(meter)
            if not event_name:
                continue
            mark, _ = MeterReport.objects.get_or_create(team=team, meter=meter, day=day)
            delta = total - mark.reported
            if delta <= 0:
                continue
            identifier = f"strata-{team.pk}-{meter}-{day.isoformat()}-{total}"
            params: dict[str, Any] = {
                "event_name": event_name,
                "identifier": identifier,
                "timestamp": _timestamp(day),
                "payload": {"stripe_customer_id": customer.customer_id, "value": str(delta)},
            }
            _send_meter_event(client, params, identifier)
            MeterReport.objects.filter(pk=mark.pk).update(reported=total)
            sent.append(MeterEventSent(team.pk, meter, day, delta))
    return sent


def report_all_usage() -> list[MeterEventSent]:
    """Report every team with a live subscription; one team's failure does not stop the rest."""
    config = billing_config()
    if not config.enabled:
        return []
    sent: list[MeterEventSent] = []
    teams = Team.objects.filter(subscription__status__in=ACTIVE_STATUSES)
    for team in teams:
        try:
            sent += report_team_usage(team, config)
        except Exception:
            log.exception("reporting usage of team %s to Stripe failed", team.pk)
    return sent
