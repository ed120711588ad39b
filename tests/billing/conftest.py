"""Billing fixtures: localstripe (a stateful fake Stripe server from PyPI) with the plans and
meters billing sells, billing settings pointing at it, and the webhooks it signs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from controlplane.audit.actions import Actor
from controlplane.billing.config import DEFAULT_METERS
from controlplane.keys.actions import create_access_token
from controlplane.keys.models import TokenKind
from controlplane.teams.actions import create_team
from controlplane.teams.models import Membership, Team

from .harness import Delivery, LocalStripe, WebhookRelay, running_localstripe

PRICES = {"pro": "price_pro_monthly", "unlimited": "price_unlimited_monthly"}
AMOUNTS = {"pro": 2500, "unlimited": 9900}
METERED = ["price_metered_calls", "price_metered_io"]
# The events the relay asks localstripe for (it sends nothing else to it).
RELAYED = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "invoice.payment_succeeded",
]


def create_catalog(ls: LocalStripe) -> dict[str, str]:
    """Plans (Stripe serves plan ids as price ids) and one meter per usage kind; meter ids."""
    client = ls.client()
    for plan, price in PRICES.items():
        client.v1.plans.create(
            params={
                "id": price,
                "amount": AMOUNTS[plan],
                "currency": "eur",
                "interval": "month",
                "product": {"name": f"Strata {plan}"},
            }
        )
    for price in METERED:
        client.v1.plans.create(
            params={
                "id": price,
                "amount": 1,
                "currency": "eur",
                "interval": "month",
                "usage_type": "metered",
                "product": {"name": price},
            }
        )
    meters = {}
    for usage, event_name in DEFAULT_METERS.items():
        meter = client.v1.billing.meters.create(
            params={
                "display_name": usage,
                "event_name": event_name,
                "default_aggregation": {"formula": "sum"},
            }
        )
        meters[usage] = meter.id
    return meters


@pytest.fixture
def stripe_server() -> Iterator[LocalStripe]:
    with running_localstripe("sk_test_" + secrets.token_hex(12)) as ls:
        ls.meters = create_catalog(ls)
        yield ls


@pytest.fixture
def webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(16)


@pytest.fixture
def relay(stripe_server: LocalStripe, webhook_secret: str) -> Iterator[WebhookRelay]:
    relay = WebhookRelay()
    stripe_server.register_webhook("relay", relay.url, webhook_secret, RELAYED)
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture
def billing_settings(settings: Any, stripe_server: LocalStripe, webhook_secret: str) -> Any:
    cache.clear()
    settings.STRATA_STRIPE_SECRET_KEY = stripe_server.secret_key
    settings.STRATA_STRIPE_API_BASE = stripe_server.url
    settings.STRATA_STRIPE_WEBHOOK_SECRET = webhook_secret
    settings.STRATA_STRIPE_PRICES = PRICES
    settings.STRATA_STRIPE_METERED_PRICES = METERED
    return settings


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header computed as Stripe documents it (HMAC-SHA256 of "t.payload")."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event(type_: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(10),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "pending_webhooks": 1,
        "type": type_,
        "data": {"object": obj},
    }


@dataclass
class Webhooks:
    client: APIClient
    secret: str

    def deliver(self, delivery: Delivery) -> Any:
        """Hand the control plane a webhook exactly as localstripe delivered and signed it."""
        return self.send(delivery.body, signature=delivery.signature)

    def send(self, body: dict[str, Any] | bytes, signature: str | None = None) -> Any:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        sig = signature if signature is not None else sign(raw, self.secret)
        return self.client.generic(
            "POST",
            "/v1/billing/stripe_webhook",
            raw,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sig,
        )


@pytest.fixture
def webhooks(billing_settings: Any, webhook_secret: str) -> Webhooks:
    return Webhooks(APIClient(), webhook_secret)


@dataclass
class Member:
    user: User
    team: Team
    token: str
    client: APIClient

    def get(self, path: str) -> Any:
        return self.client.get(f"/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            f"/v1/{path}", body, format="json", HTTP_AUTHORIZATION=f"Bearer {self.token}"
        )


def make_member(email: str, team_name: str) -> Member:
    user = User.objects.create_user(username=email, email=email)
    team = create_team(Actor(user=user), user, team_name)
    _, raw = create_access_token(Actor(user=user), TokenKind.PERSONAL, "test", user=user)
    return Member(user=user, team=team, token=raw, client=APIClient())


@pytest.fixture
def owner(db: None) -> Member:
    return make_member("owner@billing.test", "Billing Alpha")


@pytest.fixture
def other_owner(db: None) -> Member:
    return make_member("owner@other.test", "Other Beta")


def add_member(team: Team, email: str, role: str) -> Member:
    user = User.objects.create_user(username=email, email=email)
    Membership.objects.create(team=team, user=user, role=role)
    _, raw = create_access_token(Actor(user=user), TokenKind.PERSONAL, "test", user=user)
    return Member(user=user, team=team, token=raw, client=APIClient())


@dataclass(frozen=True)
class Checkout:
    session_id: str
    customer: str
    subscription: str


def pay_through_checkout(member: Member, ls: LocalStripe, plan: str = "pro") -> Checkout:
    """What a team admin does: open Checkout from the console, then pay on Stripe's page."""
    r = member.post(
        f"teams/{member.team.pk}/billing/checkout_session",
        {"plan": plan, "successUrl": "https://x.test/ok", "cancelUrl": "https://x.test/no"},
    )
    assert r.status_code == 201, r.content
    session = ls.complete_checkout(r.json()["id"])
    return Checkout(session["id"], session["customer"], session["subscription"])


def stripe_subscription(ls: LocalStripe, sub_id: str, **changes: Any) -> dict[str, Any]:
    """The subscription as localstripe has it, with `changes` applied (for events it never
    sends by itself, such as customer.subscription.updated)."""
    return {**ls.client().v1.subscriptions.retrieve(sub_id).to_dict(), **changes}
