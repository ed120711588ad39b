"""Webhooks as localstripe signs and delivers them: signature checks, once-only handling per
event id, plans and quotas. Events localstripe never sends by itself (a subscription updated
to another price or to `unpaid`, stale or foreign ones) are built from its objects and signed
here exactly as it signs (`test_our_signatures_are_the_ones_localstripe_computes`)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import orjson
import pytest

from controlplane.billing.customers import ensure_customer
from controlplane.billing.models import ProcessedEvent, Subscription
from controlplane.deployments.models import Deployment, Status
from controlplane.errors import QuotaExceeded
from controlplane.projects.models import Project
from controlplane.teams.models import Team
from controlplane.usage.models import DailyUsage
from controlplane.usage.quotas import PLANS, check_can_create_deployment, check_within_quota

from .conftest import (
    AMOUNTS,
    PRICES,
    Member,
    Webhooks,
    event,
    pay_through_checkout,
    sign,
    stripe_subscription,
)
from .harness import LocalStripe, WebhookRelay


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


def test_upgrade_through_checkout_shows_plan_and_invoice(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    paid = pay_through_checkout(owner, stripe_server, "pro")
    assert _plan(owner.team) == "free"  # nothing changes before Stripe says so

    completed = relay.wait_for("checkout.session.completed", id=paid.session_id)
    assert completed.event["data"]["object"]["subscription"] == paid.subscription
    r = webhooks.deliver(completed)
    assert r.status_code == 200, r.content
    assert r.json()["outcome"].startswith(f"team {owner.team.pk} on plan pro (active)")
    assert _plan(owner.team) == "pro"

    created = relay.wait_for("customer.subscription.created", id=paid.subscription)
    r = webhooks.deliver(created)
    assert r.status_code == 200 and r.json()["outcome"].endswith("unchanged")

    billing = owner.get(f"teams/{owner.team.pk}/billing").json()
    assert billing["plan"]["name"] == "pro"
    assert billing["hasCustomer"] is True
    assert billing["subscription"] == {
        "id": paid.subscription,
        "status": "active",
        "plan": "pro",
        "cancelAtPeriodEnd": False,
    }

    # The first month's invoice, paid with the card entered on the Checkout page.
    r = owner.get(f"teams/{owner.team.pk}/billing/invoices")
    assert r.status_code == 200, r.content
    (invoice,) = r.json()["items"]
    assert invoice["status"] == "paid"
    assert invoice["subscription"] == paid.subscription
    assert (invoice["total"], invoice["amountPaid"], invoice["currency"]) == (
        AMOUNTS["pro"],
        AMOUNTS["pro"],
        "eur",
    )
    assert invoice["periodStart"] is not None and invoice["periodEnd"] > invoice["periodStart"]

    paid_event = relay.wait_for("invoice.payment_succeeded", id=invoice["id"])
    r = webhooks.deliver(paid_event)
    assert r.status_code == 200 and "not handled" in r.json()["outcome"]


def test_our_signatures_are_the_ones_localstripe_computes(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    paid = pay_through_checkout(owner, stripe_server)
    delivery = relay.wait_for("customer.subscription.created", id=paid.subscription)
    timestamp = int(delivery.signature.split(",")[0].removeprefix("t="))
    assert sign(delivery.body, webhooks.secret, timestamp) == delivery.signature


def test_bad_signatures_are_refused_and_change_nothing(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    paid = pay_through_checkout(owner, stripe_server)
    delivery = relay.wait_for("customer.subscription.created", id=paid.subscription)
    raw = delivery.body
    tampered = raw.replace(b'"active"', b'"trialing"')
    assert tampered != raw
    for body, bad in [
        (raw, ""),
        (raw, "t=1,v1=deadbeef"),
        (raw, sign(raw, "whsec_not_the_secret")),
        (raw, sign(raw, webhooks.secret, timestamp=int(time.time()) - 3600)),  # replayed
        (tampered, delivery.signature),  # localstripe's signature over another body
    ]:
        r = webhooks.send(body, signature=bad)
        assert r.status_code == 400, bad
        assert r.json()["code"] == "InvalidWebhook"
    assert _plan(owner.team) == "free"
    assert not ProcessedEvent.objects.exists()
    assert not Subscription.objects.exists()

    r = webhooks.deliver(delivery)
    assert r.status_code == 200, r.content
    assert _plan(owner.team) == "pro"


def test_plan_changes_take_effect_on_quotas(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    _heavy_usage(owner.team)
    with pytest.raises(QuotaExceeded, match="free plan"):
        check_within_quota(owner.team)

    paid = pay_through_checkout(owner, stripe_server)
    r = webhooks.deliver(relay.wait_for("customer.subscription.created", id=paid.subscription))
    assert r.status_code == 200 and r.json()["duplicate"] is False
    assert _plan(owner.team) == "pro"
    check_within_quota(owner.team)  # within pro's quota now
    check_can_create_deployment(owner.team)
    sub = Subscription.objects.get(team=owner.team)
    assert (sub.subscription_id, sub.status, sub.plan) == (paid.subscription, "active", "pro")
    assert sub.price_ids == [PRICES["pro"]]

    # Upgraded in the customer portal: localstripe changes the subscription (it sends no
    # `updated` event, so the test sends the one Stripe would).
    client = stripe_server.client()
    item = client.v1.subscriptions.retrieve(paid.subscription)["items"].data[0]
    client.v1.subscriptions.update(
        paid.subscription,
        params={"items": [{"id": item.id, "plan": PRICES["unlimited"]}]},  # type: ignore[typeddict-unknown-key]
    )
    updated = stripe_subscription(stripe_server, paid.subscription)
    assert updated["items"]["data"][0]["plan"]["id"] == PRICES["unlimited"]
    r = webhooks.send(event("customer.subscription.updated", updated))
    assert r.status_code == 200, r.content
    assert _plan(owner.team) == "unlimited"

    # Cancelled: localstripe sends customer.subscription.deleted itself.
    client.v1.subscriptions.cancel(paid.subscription)
    r = webhooks.deliver(relay.wait_for("customer.subscription.deleted", id=paid.subscription))
    assert r.status_code == 200, r.content
    assert _plan(owner.team) == "free"
    assert Subscription.objects.get(team=owner.team).status == "canceled"
    with pytest.raises(QuotaExceeded):
        check_within_quota(owner.team)


def test_downgrade_pauses_deployments_over_the_new_quota(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    deployment = _heavy_usage(owner.team)
    paid = pay_through_checkout(owner, stripe_server)
    webhooks.deliver(relay.wait_for("customer.subscription.created", id=paid.subscription))
    assert _plan(owner.team) == "pro"
    deployment.refresh_from_db()
    assert deployment.status == Status.RUNNING

    # Stripe gave up collecting a renewal (localstripe has no billing clock to get there).
    unpaid = stripe_subscription(stripe_server, paid.subscription, status="unpaid")
    r = webhooks.send(event("customer.subscription.updated", unpaid))
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
    active = stripe_subscription(stripe_server, paid.subscription)
    r = webhooks.send(event("customer.subscription.updated", active))
    assert r.status_code == 200
    deployment.refresh_from_db()
    assert deployment.status == Status.PROVISIONING
    assert Deployment.objects.get(name="paused-by-hand-1").status == Status.PAUSED


def test_redelivered_event_is_acknowledged_not_reapplied(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    paid = pay_through_checkout(owner, stripe_server)
    delivery = relay.wait_for("customer.subscription.created", id=paid.subscription)
    assert webhooks.deliver(delivery).json()["duplicate"] is False
    assert _plan(owner.team) == "pro"
    Team.objects.filter(pk=owner.team.pk).update(plan="unlimited")  # changed since

    r = webhooks.deliver(delivery)  # Stripe retries the same event
    assert r.status_code == 200
    assert r.json() == {
        "received": True,
        "eventId": delivery.event["id"],
        "duplicate": True,
        "outcome": "duplicate",
    }
    assert _plan(owner.team) == "unlimited"
    assert ProcessedEvent.objects.filter(event_id=delivery.event["id"]).count() == 1


def test_failed_handling_is_retried_by_the_next_delivery(
    webhooks: Webhooks, stripe_server: LocalStripe, relay: WebhookRelay, owner: Member
) -> None:
    paid = pay_through_checkout(owner, stripe_server)
    completed = relay.wait_for("checkout.session.completed", id=paid.session_id)
    # Looking the subscription up fails once: the event is not marked handled.
    stripe_server.fail_next(f"/v1/subscriptions/{paid.subscription}", 400)
    r = webhooks.deliver(completed)
    assert r.status_code == 502
    assert "subscription lookup" in r.json()["message"]
    assert not ProcessedEvent.objects.filter(event_id=completed.event["id"]).exists()
    assert _plan(owner.team) == "free"

    r = webhooks.deliver(completed)  # Stripe's retry
    assert r.status_code == 200 and r.json()["duplicate"] is False
    assert _plan(owner.team) == "pro"


def test_stale_events_and_foreign_customers_are_ignored(
    webhooks: Webhooks,
    stripe_server: LocalStripe,
    relay: WebhookRelay,
    owner: Member,
    other_owner: Member,
) -> None:
    paid = pay_through_checkout(owner, stripe_server)
    sub = stripe_subscription(stripe_server, paid.subscription)
    now = int(time.time())
    webhooks.send(event("customer.subscription.updated", sub, created=now))
    assert _plan(owner.team) == "pro"
    unlimited = {
        **sub,
        "items": {"object": "list", "data": [{"price": {"id": PRICES["unlimited"]}}]},
    }
    older = event("customer.subscription.updated", unlimited, created=now - 60)
    r = webhooks.send(older)  # delivered late
    assert r.status_code == 200 and "older" in r.json()["outcome"]
    assert _plan(owner.team) == "pro"

    # A customer of the Stripe account that is no Strata team.
    stranger = stripe_server.client().v1.customers.create(params={"name": "stranger"})
    r = webhooks.send(
        event(
            "customer.subscription.created", {**unlimited, "id": "sub_x", "customer": stranger.id}
        )
    )
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored")

    # Metadata naming another team cannot move a plan onto it.
    beta = ensure_customer(other_owner.team)
    sneaky = {
        **unlimited,
        "id": "sub_b",
        "customer": beta,
        "metadata": {"strata_team_id": str(owner.team.pk)},
    }
    r = webhooks.send(event("customer.subscription.created", sneaky))
    assert r.status_code == 200 and r.json()["outcome"].startswith("ignored")
    assert _plan(other_owner.team) == "free"
    assert _plan(owner.team) == "pro"


def test_bad_bodies_and_methods(webhooks: Webhooks, billing_settings: Any) -> None:
    r = webhooks.send(b"{not json")
    assert r.status_code == 400 and r.json()["code"] == "InvalidWebhook"
    r = webhooks.send(orjson.dumps({"object": "event"}))
    assert r.status_code == 400 and "id" in r.json()["message"]
    assert webhooks.client.get("/v1/billing/stripe_webhook").status_code == 405
    billing_settings.STRATA_STRIPE_WEBHOOK_SECRET = ""
    r = webhooks.send(event("invoice.paid", {"id": "in_1"}))
    assert r.status_code == 503 and r.json()["code"] == "BillingDisabled"
