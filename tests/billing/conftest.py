"""Billing fixtures: a Stripe stand-in server, billing settings pointing at it, signed webhooks."""

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
from controlplane.keys.actions import create_access_token
from controlplane.keys.models import TokenKind
from controlplane.teams.actions import create_team
from controlplane.teams.models import Membership, Team

from . import stripe_standin
from .stripe_standin import StripeStandIn

PRICES = {"pro": "price_pro_monthly", "unlimited": "price_unlimited_monthly"}
METERED = ["price_metered_calls", "price_metered_io"]


@pytest.fixture
def stripe_server() -> Iterator[StripeStandIn]:
    standin = stripe_standin.start("sk_test_" + secrets.token_hex(12))
    try:
        yield standin
    finally:
        stripe_standin.stop(standin)


@pytest.fixture
def webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(16)


@pytest.fixture
def billing_settings(settings: Any, stripe_server: StripeStandIn, webhook_secret: str) -> Any:
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


def subscription(
    sub_id: str, customer: str, prices: list[str], status: str = "active", **extra: Any
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": False,
        "metadata": {},
        "items": {
            "object": "list",
            "data": [
                {"id": f"si_{i}", "object": "subscription_item", "price": {"id": p}}
                for i, p in enumerate(prices)
            ],
        },
        **extra,
    }


@dataclass
class Webhooks:
    client: APIClient
    secret: str

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
