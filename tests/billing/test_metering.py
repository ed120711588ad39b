"""Metered usage: daily usage growth is sent to Stripe meters once, and resumes after failures."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db.models import F

from controlplane.billing.metering import report_all_usage
from controlplane.billing.models import StripeCustomer, Subscription
from controlplane.deployments.models import Deployment, Status
from controlplane.projects.models import Project
from controlplane.teams.models import Team
from controlplane.usage.models import DailyUsage

from .conftest import Member
from .stripe_standin import StripeStandIn


def _subscribed(team: Team, customer: str) -> Deployment:
    StripeCustomer.objects.create(team=team, customer_id=customer)
    Subscription.objects.create(
        team=team, subscription_id=f"sub_{customer}", status="active", plan="pro"
    )
    project = Project.objects.create(team=team, name="App", slug="app")
    return Deployment.objects.create(
        project=project, name=f"dep-{customer}", type="prod", status=Status.RUNNING
    )


def _events(stripe_server: StripeStandIn, customer: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in stripe_server.meter_events:
        if e["payload"]["stripe_customer_id"] == customer:
            out[e["event_name"]] = out.get(e["event_name"], 0) + int(e["payload"]["value"])
    return out


def test_usage_is_reported_once_per_growth(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member, other_owner: Member
) -> None:
    deployment = _subscribed(owner.team, "cus_alpha")
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
    unsubscribed_project = Project.objects.create(team=other_owner.team, name="B", slug="b")
    other = Deployment.objects.create(
        project=unsubscribed_project, name="dep-beta", type="dev", status=Status.RUNNING
    )
    DailyUsage.objects.create(deployment=other, day=today, function_calls=99)

    sent = report_all_usage()
    assert {(s.meter, s.value) for s in sent} == {("function_calls", 1200), ("db_io_bytes", 500)}
    assert _events(stripe_server, "cus_alpha") == {
        "strata_function_calls": 1200,
        "strata_db_io_bytes": 500,
    }
    assert {e["payload"]["stripe_customer_id"] for e in stripe_server.meter_events} == {"cus_alpha"}
    first = stripe_server.calls("POST", "/v1/billing/meter_events")[0]
    assert first.headers["idempotency-key"] == first.params["identifier"]

    assert report_all_usage() == []  # nothing new: nothing sent
    DailyUsage.objects.filter(pk=row.pk).update(function_calls=F("function_calls") + 34)
    sent = report_all_usage()
    assert [(s.meter, s.value) for s in sent] == [("function_calls", 34)]
    assert _events(stripe_server, "cus_alpha")["strata_function_calls"] == 1234


def test_failed_report_is_resent_and_other_teams_continue(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member, other_owner: Member
) -> None:
    a = _subscribed(owner.team, "cus_alpha")
    DailyUsage.objects.create(deployment=a, day=date.today(), function_calls=10)
    stripe_server.fail_next["/v1/billing/meter_events"] = 400
    assert report_all_usage() == []
    assert stripe_server.meter_events == []

    b = _subscribed(other_owner.team, "cus_beta")
    DailyUsage.objects.create(deployment=b, day=date.today(), function_calls=7)
    out = StringIO()
    call_command("billing_report_usage", stdout=out)
    assert "2 meter events sent" in out.getvalue()
    assert _events(stripe_server, "cus_alpha") == {"strata_function_calls": 10}
    assert _events(stripe_server, "cus_beta") == {"strata_function_calls": 7}


def test_disabled_billing_reports_nothing(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member
) -> None:
    a = _subscribed(owner.team, "cus_alpha")
    DailyUsage.objects.create(deployment=a, day=date.today(), function_calls=10)
    billing_settings.STRATA_STRIPE_SECRET_KEY = ""
    assert report_all_usage() == []
    assert stripe_server.requests == []
