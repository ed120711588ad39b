"""Customer per team, Checkout and portal sessions against the Stripe stand-in."""

from __future__ import annotations

from typing import Any

from controlplane.billing.models import StripeCustomer, Subscription
from controlplane.teams.models import Role

from .conftest import METERED, PRICES, Member, add_member
from .stripe_standin import StripeStandIn

CHECKOUT = {
    "plan": "pro",
    "successUrl": "https://app.example.test/billing/ok",
    "cancelUrl": "https://app.example.test/billing/cancel",
}


def test_checkout_creates_one_customer_per_team_and_a_subscription_session(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member
) -> None:
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 201, r.content
    assert r.json()["url"].startswith("https://checkout.stripe.test/c/pay/cs_test_")

    customers = stripe_server.calls("POST", "/v1/customers")
    assert len(customers) == 1
    assert customers[0].params["metadata[strata_team_id]"] == str(owner.team.pk)
    assert customers[0].headers["idempotency-key"] == f"strata-team-customer-{owner.team.pk}"
    customer_id = StripeCustomer.objects.get(team=owner.team).customer_id

    (session,) = stripe_server.calls("POST", "/v1/checkout/sessions")
    p = session.params
    assert p["mode"] == "subscription"
    assert p["customer"] == customer_id
    assert p["client_reference_id"] == str(owner.team.pk)
    assert p["line_items[0][price]"] == PRICES["pro"]
    assert p["line_items[0][quantity]"] == "1"
    assert [p["line_items[1][price]"], p["line_items[2][price]"]] == METERED
    assert "line_items[1][quantity]" not in p  # metered prices take no quantity
    assert p["subscription_data[metadata][strata_team_id]"] == str(owner.team.pk)
    assert p["success_url"] == CHECKOUT["successUrl"]
    assert session.headers["authorization"] == f"Bearer {stripe_server.secret_key}"

    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 201
    assert len(stripe_server.calls("POST", "/v1/customers")) == 1  # reused, not recreated
    assert stripe_server.calls("POST", "/v1/checkout/sessions")[1].params["customer"] == (
        customer_id
    )


def test_portal_session_for_the_teams_customer(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member
) -> None:
    r = owner.post(
        f"teams/{owner.team.pk}/billing/portal_session",
        {"returnUrl": "https://app.example.test/settings"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["url"].startswith("https://billing.stripe.test/p/session/")
    (call,) = stripe_server.calls("POST", "/v1/billing_portal/sessions")
    assert call.params == {
        "customer": StripeCustomer.objects.get(team=owner.team).customer_id,
        "return_url": "https://app.example.test/settings",
    }


def test_bad_input_and_roles_are_refused(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member, other_owner: Member
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

    # Another team's billing does not exist for this caller.
    assert other_owner.post(path, CHECKOUT).status_code == 404
    assert other_owner.get(f"teams/{owner.team.pk}/billing").status_code == 404
    assert stripe_server.calls("POST", "/v1/checkout/sessions") == []
    assert stripe_server.calls("POST", "/v1/customers") == []


def test_already_subscribed_team_is_sent_to_the_portal(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member
) -> None:
    Subscription.objects.create(
        team=owner.team, subscription_id="sub_1", status="active", plan="pro"
    )
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 409 and r.json()["code"] == "AlreadySubscribed"


def test_stripe_failure_and_missing_configuration_are_clear_errors(
    billing_settings: Any, stripe_server: StripeStandIn, owner: Member
) -> None:
    stripe_server.fail_next["/v1/customers"] = 400
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 502 and r.json()["code"] == "BillingProviderError"
    assert "customer creation" in r.json()["message"]
    assert "Injected failure" in r.json()["message"]
    assert not StripeCustomer.objects.filter(team=owner.team).exists()

    billing_settings.STRATA_STRIPE_SECRET_KEY = ""
    r = owner.post(f"teams/{owner.team.pk}/billing/checkout_session", CHECKOUT)
    assert r.status_code == 503 and r.json()["code"] == "BillingDisabled"

    billing_settings.STRATA_STRIPE_SECRET_KEY = "sk_test_wrong"
    r = owner.post(
        f"teams/{owner.team.pk}/billing/portal_session", {"returnUrl": "https://x.test/"}
    )
    assert r.status_code == 502 and "Invalid API Key" in r.json()["message"]


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
    assert owner.client.get("/v1/billing/plans").status_code == 401
