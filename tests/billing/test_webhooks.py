"""Signed webhooks: signature checks, once-only handling per event id, plans and quotas."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import orjson
import pytest

from controlplane.billing.models import ProcessedEvent, StripeCustomer, Subscription
from controlplane.deployments.models import Deployment, Status
from controlplane.errors import QuotaExceeded
from controlplane.projects.models import Project
from controlplane.teams.models import Team
from controlplane.usage.models import DailyUsage
from controlplane.usage.quotas import PLANS, check_can_create_deployment, check_within_quota

from .conftest import PRICES, Member, Webhooks, event, sign, subscription
from .stripe_standin import StripeStandIn


@pytest.fixture
def customer(owner: Member) -> str:
    StripeCustomer.objects.create(team=owner.team, customer_id="cus_alpha")
    return "cus_alpha"


def _plan(team: Team) -> str:
    team.refresh_from_db()
    return team.plan


def _heavy_usage(team: Team) -> Deployment:
    """A running deployment whose usage this month is over the free plan but within pro."""
    project = Project.objects.create(team=team, name="App", slug="app")
    deployment = Deployment.objects.create(
        project=project, name="happy-otter-123", type="prod", status=Status.RUNNING
    )
    calls = PLANS["free"].function_calls
    assert calls is not None
    DailyUsage.objects.create(
        deployment=deployment, day=date.today().replace(day=1), function_calls=calls * 3
    )
    return deployment


def test_signatures_are_verified(webhooks: Webhooks, customer: str, owner: Member) -> None:
    body = event("customer.subscription.created", subscription("sub_1", customer, [PRICES["pro"]]))
    raw = orjson.dumps(body)
    for bad in [
        "",
        "t=1,v1=deadbeef",
        sign(raw, "whsec_not_the_secret"),
        sign(raw, webhooks.secret, timestamp=int(time.time()) - 3600),  # replayed, too old
        sign(raw + b" ", webhooks.secret).replace("t=", "t="),
    ]:
        r = webhooks.send(raw, signature=bad)
        assert r.status_code == 400, bad
        assert r.json()["code"] == "InvalidWebhook"
    # A valid signature over a different body than the one delivered.
    r = webhooks.send(raw, signature=sign(raw.replace(b"sub_1", b"sub_2"), webhooks.secret))
    assert r.status_code == 400
    assert _plan(owner.team) == "free"
    assert not ProcessedEvent.objects.exists()

    r = webhooks.send(raw)
    assert r.status_code == 200, r.content
    assert _plan(owner.team) == "pro"


def test_plan_changes_take_effect_on_quotas(
    webhooks: Webhooks, customer: str, owner: Member
) -> None:
    _heavy_usage(owner.team)
    with pytest.raises(QuotaExceeded, match="free plan"):
        check_within_quota(owner.team)

    r = webhooks.send(
        event("customer.subscription.created", subscription("sub_1", customer, [PRICES["pro"]]))
    )
    assert r.status_code == 200 and r.json()["duplicate"] is False
    assert _plan(owner.team) == "pro"
    check_within_quota(owner.team)  # within pro's quota now
    check_can_create_deployment(owner.team)
    sub = Subscription.objects.get(team=owner.team)
    assert (sub.subscription_id, sub.status, sub.plan) == ("sub_1", "active", "pro")
    assert owner.get(f"teams/{owner.team.pk}/billing").json()["plan"]["name"] == "pro"

    r = webhooks.send(
        event(
            "customer.subscription.updated",
            subscription("sub_1", customer, [PRICES["unlimited"]]),
        )
    )
    assert r.status_code == 200
    assert _plan(owner.team) == "unlimited"

    r = webhooks.send(
        event("customer.subscription.deleted", subscription("sub_1", customer, [], "canceled"))
    )
    assert r.status_code == 200
    assert _plan(owner.team) == "free"
    with pytest.raises(QuotaExceeded):
        check_within_quota(owner.team)


def test_downgrade_pauses_deployments_over_the_new_quota(
    webhooks: Webhooks, customer: str, owner: Member
) -> None:
    owner.team.plan = "pro"
    owner.team.save()
    deployment = _heavy_usage(owner.team)
    webhooks.send(
        event("customer.subscription.updated", subscription("sub_1", customer, [PRICES["pro"]]))
    )
    deployment.refresh_from_db()
    assert deployment.status == Status.RUNNING
    r = webhooks.send(
        event("customer.subscription.updated", subscription("sub_1", customer, [], "unpaid"))
    )
    assert r.status_code == 200
    deployment.refresh_from_db()
    assert _plan(owner.team) == "free"
    assert deployment.status == Status.PAUSED
    assert deployment.status_reason.startswith("quota exceeded")

    # Paying again brings the team within quota: what the quota paused starts again,
    # a deployment its owner paused stays paused.
    Deployment.objects.create(
        project=deployment.project,
        name="paused-by-hand-1",
        type="dev",
        status=Status.PAUSED,
        status_reason="",
    )
    r = webhooks.send(
        event("customer.subscription.updated", subscription("sub_1", customer, [PRICES["pro"]]))
    )
    assert r.status_code == 200
    deployment.refresh_from_db()
    assert deployment.status == Status.PROVISIONING
    assert Deployment.objects.get(name="paused-by-hand-1").status == Status.PAUSED


def test_redelivered_event_is_acknowledged_not_reapplied(
    webhooks: Webhooks, customer: str, owner: Member
) -> None:
    body = event("customer.subscription.created", subscription("sub_1", customer, [PRICES["pro"]]))
    assert webhooks.send(body).json()["duplicate"] is False
    assert _plan(owner.team) == "pro"
    Team.objects.filter(pk=owner.team.pk).update(plan="unlimited")  # changed since

    r = webhooks.send(body)  # Stripe retries the same event id (freshly signed)
    assert r.status_code == 200
    assert r.json() == {
        "received": True,
        "eventId": body["id"],
        "duplicate": True,
        "outcome": "duplicate",
    }
    assert _plan(owner.team) == "unlimited"
    assert ProcessedEvent.objects.filter(event_id=body["id"]).count() == 1


def test_failed_handling_is_retried_by_the_next_delivery(
    webhooks: Webhooks, stripe_server: StripeStandIn, customer: str, owner: Member
) -> None:
    checkout = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": customer,
        "subscription": "sub_9",
        "client_reference_id": str(owner.team.pk),
        "metadata": {"strata_team_id": str(owner.team.pk)},
    }
    body = event("checkout.session.completed", checkout)
    r = webhooks.send(body)  # the subscription is unknown to Stripe yet: a 404 from the API
    assert r.status_code == 502
    assert not ProcessedEvent.objects.filter(event_id=body["id"]).exists()
    assert _plan(owner.team) == "free"

    stripe_server.subscriptions["sub_9"] = subscription("sub_9", customer, [PRICES["pro"]])
    r = webhooks.send(body)
    assert r.status_code == 200 and r.json()["duplicate"] is False
    assert _plan(owner.team) == "pro"
    assert len(stripe_server.calls("GET", "/v1/subscriptions/sub_9")) == 2


def test_stale_events_and_foreign_customers_are_ignored(
    webhooks: Webhooks, customer: str, owner: Member, other_owner: Member
) -> None:
    now = int(time.time())
    newer = event(
        "customer.subscription.updated",
        subscription("sub_1", customer, [PRICES["pro"]]),
        created=now,
    )
    older = event(
        "customer.subscription.updated",
        subscription("sub_1", customer, [PRICES["unlimited"]]),
        created=now - 60,
    )
    webhooks.send(newer)
    r = webhooks.send(older)  # delivered late
    assert r.status_code == 200 and "older" in r.json()["outcome"]
    assert _plan(owner.team) == "pro"

    unknown = event(
        "customer.subscription.created",
        subscription("sub_x", "cus_somebody_else", [PRICES["unlimited"]]),
    )
    r = webhooks.send(unknown)
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored")

    # Metadata naming another team cannot move a plan onto it.
    StripeCustomer.objects.create(team=other_owner.team, customer_id="cus_beta")
    sneaky = subscription(
        "sub_b", "cus_beta", [PRICES["unlimited"]], metadata={"strata_team_id": str(owner.team.pk)}
    )
    r = webhooks.send(event("customer.subscription.created", sneaky))
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored")
    assert _plan(other_owner.team) == "free"
    assert _plan(owner.team) == "pro"

    r = webhooks.send(event("invoice.paid", {"id": "in_1", "customer": customer}))
    assert r.status_code == 200 and "not handled" in r.json()["outcome"]


def test_bad_bodies_and_methods(webhooks: Webhooks, billing_settings: Any) -> None:
    r = webhooks.send(b"{not json")
    assert r.status_code == 400 and r.json()["code"] == "InvalidWebhook"
    r = webhooks.send(orjson.dumps({"object": "event"}))
    assert r.status_code == 400 and "id" in r.json()["message"]
    assert webhooks.client.get("/v1/billing/stripe_webhook").status_code == 405
    billing_settings.STRATA_STRIPE_WEBHOOK_SECRET = ""
    r = webhooks.send(event("invoice.paid", {"id": "in_1"}))
    assert r.status_code == 503 and r.json()["code"] == "BillingDisabled"
