"""Metered usage: daily usage growth reaches localstripe's billing meters once, read back through
Stripe's meter event summaries, and resumes after failures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db.models import F

from controlplane.billing.customers import ensure_customer
from controlplane.billing.metering import report_all_usage
from controlplane.billing.models import MeterReport, Subscription
from controlplane.deployments.models import Deployment, Status
from controlplane.projects.models import Project
from controlplane.teams.models import Team
from controlplane.usage.models import DailyUsage

from .conftest import Member
from .harness import LocalStripe


def _subscribed(team: Team) -> tuple[Deployment, str]:
    """A team with a Stripe customer, a live subscription and a running deployment."""
    customer = ensure_customer(team)
    Subscription.objects.create(
        team=team, subscription_id=f"sub_{customer}", status="active", plan="pro"
    )
    project = Project.objects.create(team=team, name="App", slug="app")
    deployment = Deployment.objects.create(
        project=project, name=f"dep-{team.pk}", type="prod", status=Status.RUNNING
    )
    return deployment, customer


def _metered(ls: LocalStripe, customer: str) -> dict[str, int]:
    """What Stripe's meters hold for the customer over the last two days, by usage kind."""
    start = int(datetime.combine(date.today() - timedelta(days=1), datetime.min.time()).timestamp())
    end = start + 3 * 86400
    client = ls.client()
    out = {}
    for usage, meter in ls.meters.items():
        summaries = client.v1.billing.meters.event_summaries.list(
            meter, params={"customer": customer, "start_time": start, "end_time": end}
        )
        total = int(sum(s.aggregated_value for s in summaries.data))
        if total:
            out[usage] = total
    return out


def test_usage_is_reported_once_per_growth(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member, other_owner: Member
) -> None:
    deployment, customer = _subscribed(owner.team)
    today = date.today()
    row = DailyUsage.objects.create(
        deployment=deployment,
        day=today,
        function_calls=1200,
        db_bytes_read=300,
        db_bytes_written=200,
        action_compute_mb_ms=0,
    )
    # A team without a subscription is never reported, even with usage.
    unsubscribed_customer = ensure_customer(other_owner.team)
    unsubscribed_project = Project.objects.create(team=other_owner.team, name="B", slug="b")
    other = Deployment.objects.create(
        project=unsubscribed_project, name="dep-beta", type="dev", status=Status.RUNNING
    )
    DailyUsage.objects.create(deployment=other, day=today, function_calls=99)

    sent = report_all_usage()
    assert {(s.meter, s.value) for s in sent} == {("function_calls", 1200), ("db_io_bytes", 500)}
    assert _metered(stripe_server, customer) == {"function_calls": 1200, "db_io_bytes": 500}
    assert _metered(stripe_server, unsubscribed_customer) == {}

    assert report_all_usage() == []  # nothing new: nothing sent
    DailyUsage.objects.filter(pk=row.pk).update(function_calls=F("function_calls") + 34)
    sent = report_all_usage()
    assert [(s.meter, s.value) for s in sent] == [("function_calls", 34)]
    assert _metered(stripe_server, customer) == {"function_calls": 1234, "db_io_bytes": 500}

    # The console's billing section shows what reached the meters this month.
    billing = owner.get(f"teams/{owner.team.pk}/billing").json()
    assert billing["meteredThisMonth"] == {
        "functionCalls": 1234,
        "dbIoBytes": 500,
        "actionComputeMbMs": 0,
    }
    other = other_owner.get(f"teams/{other_owner.team.pk}/billing").json()
    assert other["meteredThisMonth"]["functionCalls"] == 0


def test_failed_report_is_resent_and_other_teams_continue(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member, other_owner: Member
) -> None:
    a, alpha = _subscribed(owner.team)
    DailyUsage.objects.create(deployment=a, day=date.today(), function_calls=10)
    stripe_server.fail_next("/v1/billing/meter_events", 400)
    assert report_all_usage() == []
    assert _metered(stripe_server, alpha) == {}

    b, beta = _subscribed(other_owner.team)
    DailyUsage.objects.create(deployment=b, day=date.today(), function_calls=7)
    out = StringIO()
    call_command("billing_report_usage", stdout=out)
    assert "2 meter events sent" in out.getvalue()
    assert _metered(stripe_server, alpha) == {"function_calls": 10}
    assert _metered(stripe_server, beta) == {"function_calls": 7}


def test_disabled_billing_reports_nothing(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    a, customer = _subscribed(owner.team)
    DailyUsage.objects.create(deployment=a, day=date.today(), function_calls=10)
    billing_settings.STRATA_STRIPE_SECRET_KEY = ""
    assert report_all_usage() == []
    billing_settings.STRATA_STRIPE_SECRET_KEY = stripe_server.secret_key
    assert _metered(stripe_server, customer) == {}


def test_a_resend_after_a_lost_response_is_not_counted_twice(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    deployment, customer = _subscribed(owner.team)
    DailyUsage.objects.create(deployment=deployment, day=date.today(), function_calls=40)
    assert [s.value for s in report_all_usage()] == [40]
    # Stripe took the event but the answer never arrived: the mark did not move forward.
    MeterReport.objects.filter(team=owner.team).update(reported=0)
    assert [s.value for s in report_all_usage()] == [40]  # sent again, same identifier
    assert _metered(stripe_server, customer) == {"function_calls": 40}
