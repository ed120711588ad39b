"""Customer per team, Checkout and portal sessions, against localstripe."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from controlplane.billing.customers import ensure_customer
from controlplane.billing.models import StripeCustomer, Subscription
from controlplane.teams.models import Role

from .conftest import METERED, PRICES, Member, add_member
from .harness import LocalStripe

CHECKOUT = {
    "plan": "pro",
    "successUrl": "https://app.example.test/billing/ok",
    "cancelUrl": "https://app.example.test/billing/cancel",
}


def test_checkout_creates_one_customer_per_team_and_a_subscription_session(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 201, r.content
    session_id = r.json()["id"]
    assert r.json()["url"].endswith(f"/c/pay/{session_id}")

    client = stripe_server.client()
    (customer,) = client.v1.customers.list().data
    assert customer.metadata["strata_team_id"] == str(owner.team.pk)
    assert customer.name == owner.team.name
    assert StripeCustomer.objects.get(team=owner.team).customer_id == customer.id

    session = client.v1.checkout.sessions.retrieve(session_id).to_dict()
    assert session["mode"] == "subscription"
    assert session["status"] == "open"
    assert session["customer"] == customer.id
    assert session["client_reference_id"] == str(owner.team.pk)
    assert session["success_url"] == CHECKOUT["successUrl"]
    assert session["line_items"] == [
        {"price": PRICES["pro"], "quantity": "1"},
        *({"price": metered} for metered in METERED),  # metered prices take no quantity
    ]
    assert session["subscription_data"]["metadata"]["strata_team_id"] == str(owner.team.pk)

    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 201
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]  # reused
    second = client.v1.checkout.sessions.retrieve(r.json()["id"])
    assert second.customer == customer.id


def test_customer_creation_is_idempotent_per_team(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member, other_owner: Member
) -> None:
    first = ensure_customer(owner.team)
    # A lost response: the row was never stored, the request is sent again with the same key.
    StripeCustomer.objects.filter(team=owner.team).delete()
    assert ensure_customer(owner.team) == first
    assert ensure_customer(other_owner.team) != first
    assert len(stripe_server.client().v1.customers.list().data) == 2


def test_portal_session_for_the_teams_customer(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    r = owner.post(
        f"teams/{owner.team.pk}/billing/portal_session",
        {"returnUrl": "https://app.example.test/settings"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["id"].startswith("bps_")
    assert r.json()["url"].endswith(f"/p/session/{r.json()['id']}")
    (customer,) = stripe_server.client().v1.customers.list().data
    assert StripeCustomer.objects.get(team=owner.team).customer_id == customer.id


def test_bad_input_and_roles_are_refused(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member, other_owner: Member
) -> None:
    path = f"teams/{owner.team.pk}/billing/checkout_session"
    r = owner.post(path, {**CHECKOUT, "plan": "gold"})
    assert r.status_code == 400 and r.json()["code"] == "UnknownPlan"
    assert "pro" in r.json()["message"]
    r = owner.post(path, {**CHECKOUT, "plan": "free"})
    assert r.status_code == 400 and r.json()["code"] == "UnknownPlan"
    r = owner.post(path, {**CHECKOUT, "successUrl": "not a url"})
    assert r.status_code == 400 and r.json()["code"] == "InvalidRequest"
    assert "successUrl" in r.json()["message"]

    developer = add_member(owner.team, "dev@billing.test", Role.DEVELOPER)
    r = developer.post(path, CHECKOUT)
    assert r.status_code == 403
    assert developer.get(f"teams/{owner.team.pk}/billing").status_code == 200
    assert developer.get(f"teams/{owner.team.pk}/billing/invoices").status_code == 200

    # Another team's billing does not exist for this caller.
    assert other_owner.post(path, CHECKOUT).status_code == 404
    assert other_owner.get(f"teams/{owner.team.pk}/billing").status_code == 404
    assert other_owner.get(f"teams/{owner.team.pk}/billing/invoices").status_code == 404
    assert stripe_server.client().v1.customers.list().data == []


def test_already_subscribed_team_is_sent_to_the_portal(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    Subscription.objects.create(
        team=owner.team, subscription_id="sub_1", status="active", plan="pro"
    )
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 409 and r.json()["code"] == "AlreadySubscribed"
    assert stripe_server.client().v1.customers.list().data == []


def test_a_price_stripe_does_not_know_is_a_provider_error(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    billing_settings.STRATA_STRIPE_PRICES = {"pro": "price_deleted_in_stripe"}
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 502 and r.json()["code"] == "BillingProviderError"
    assert "checkout session creation" in r.json()["message"]


def test_stripe_failure_and_missing_configuration_are_clear_errors(
    billing_settings: Any, stripe_server: LocalStripe, owner: Member
) -> None:
    stripe_server.fail_next("/v1/customers", 400)
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 502 and r.json()["code"] == "BillingProviderError"
    assert "customer creation" in r.json()["message"]
    assert "Injected failure" in r.json()["message"]
    assert not StripeCustomer.objects.filter(team=owner.team).exists()
    assert stripe_server.client().v1.customers.list().data == []

    billing_settings.STRATA_STRIPE_SECRET_KEY = ""
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 503 and r.json()["code"] == "BillingDisabled"

    billing_settings.STRATA_STRIPE_SECRET_KEY = "not_a_secret_key"
    r = owner.post(
        f"teams/{owner.team.pk}/billing/portal_session", {"returnUrl": "https://x.test/"}
    )
    assert r.status_code == 502 and r.json()["code"] == "BillingProviderError"
    assert "customer creation" in r.json()["message"]


def test_plans_and_team_billing_state(billing_settings: Any, owner: Member) -> None:
    r = owner.get("billing/plans")
    assert r.status_code == 200
    plans = {p["name"]: p for p in r.json()}
    assert plans["free"]["purchasable"] is False
    assert plans["pro"]["purchasable"] is True
    assert plans["pro"]["functionCalls"] > plans["free"]["functionCalls"]
    r = owner.get(f"teams/{owner.team.pk}/billing")
    assert r.status_code == 200
    body = r.json()
    assert body["plan"]["name"] == "free"
    assert body["subscription"] is None and body["hasCustomer"] is False
    assert body["meteredThisMonth"] == {"functionCalls": 0, "dbIoBytes": 0, "actionComputeMbMs": 0}
    assert owner.get(f"teams/{owner.team.pk}/billing/invoices").json() == {"items": []}
    assert owner.client.get("/v1/billing/plans").status_code == 401


def test_invoices_and_metered_usage_are_in_the_openapi_schema(db: None) -> None:
    raw = APIClient().get("/v1/openapi.json").json()
    get = raw["paths"]["/v1/teams/{team_id}/billing/invoices"]["get"]
    assert "billing" in get["tags"]
    ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    invoices = raw["components"]["schemas"][ref.rsplit("/", 1)[1]]
    item_ref = invoices["properties"]["items"]["items"]["$ref"]
    item = raw["components"]["schemas"][item_ref.rsplit("/", 1)[1]]
    assert {"id", "status", "total", "currency", "periodStart", "hostedInvoiceUrl"} <= set(
        item["properties"]
    )
    billing_ref = raw["paths"]["/v1/teams/{team_id}/billing"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    billing = raw["components"]["schemas"][billing_ref.rsplit("/", 1)[1]]
    assert "meteredThisMonth" in billing["properties"]
