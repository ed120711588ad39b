"""End to end on a live control plane (daphne + PostgreSQL): subscribe through Checkout, a
signed webhook moves the team to the paid plan, and redeliveries sent in parallel apply it once
(daphne may serialize them; the unique event id is what guarantees it either way)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from tests.terraform.live_control_plane import ControlPlane, running_control_plane

from . import stripe_standin
from .conftest import PRICES, event, sign, subscription
from .stripe_standin import StripeStandIn


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[ControlPlane, StripeStandIn, str]]:
    standin = stripe_standin.start("sk_test_" + secrets.token_hex(12))
    webhook_secret = "whsec_" + secrets.token_hex(16)
    env = {
        "STRATA_STRIPE_SECRET_KEY": standin.secret_key,
        "STRATA_STRIPE_API_BASE": standin.url,
        "STRATA_STRIPE_WEBHOOK_SECRET": webhook_secret,
        "STRATA_STRIPE_PRICES": ",".join(f"{k}={v}" for k, v in PRICES.items()),
    }
    try:
        with running_control_plane(tmp_path, env) as cp:
            yield cp, standin, webhook_secret
    finally:
        stripe_standin.stop(standin)


def _deliver(cp: ControlPlane, body: dict[str, Any], secret: str) -> httpx.Response:
    raw = orjson.dumps(body)
    return httpx.post(
        f"{cp.url}/v1/billing/stripe_webhook",
        content=raw,
        headers={"Stripe-Signature": sign(raw, secret), "Content-Type": "application/json"},
        timeout=60,
    )


def test_checkout_to_paid_plan_with_concurrent_redeliveries(
    live: tuple[ControlPlane, StripeStandIn, str],
) -> None:
    cp, standin, secret = live
    r = cp.post(
        f"teams/{cp.team_id}/billing/checkout_session",
        {"plan": "pro", "successUrl": "https://x.test/ok", "cancelUrl": "https://x.test/no"},
    )
    assert r.status_code == 201, r.text
    (session_call,) = standin.calls("POST", "/v1/checkout/sessions")
    customer = session_call.params["customer"]
    standin.subscriptions["sub_live"] = subscription("sub_live", customer, [PRICES["pro"]])

    completed = event(
        "checkout.session.completed",
        {
            "id": r.json()["id"],
            "object": "checkout.session",
            "mode": "subscription",
            "customer": customer,
            "subscription": "sub_live",
            "metadata": {"strata_team_id": str(cp.team_id)},
        },
    )
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: _deliver(cp, completed, secret), range(6)))
    assert all(resp.status_code == 200 for resp in responses), [x.text for x in responses]
    assert sorted(resp.json()["duplicate"] for resp in responses) == [False] + [True] * 5

    assert cp.get(f"teams/{cp.team_id}").json()["plan"] == "pro"
    billing = cp.get(f"teams/{cp.team_id}/billing").json()
    assert billing["subscription"]["status"] == "active"
    assert billing["plan"]["name"] == "pro"

    with psycopg.connect(cp.database_url) as conn:
        (processed,) = conn.execute(
            "SELECT count(*) FROM strata_billing_processedevent WHERE event_id = %s",
            [completed["id"]],
        ).fetchone() or (0,)
        (changes,) = conn.execute(
            "SELECT count(*) FROM strata_audit_auditevent WHERE action = 'team.plan_change'"
        ).fetchone() or (0,)
    assert processed == 1
    assert changes == 1

    # A forged delivery (wrong secret) changes nothing.
    cancel = event(
        "customer.subscription.deleted", subscription("sub_live", customer, [], "canceled")
    )
    raw = orjson.dumps(cancel)
    r = httpx.post(
        f"{cp.url}/v1/billing/stripe_webhook",
        content=raw,
        headers={"Stripe-Signature": sign(raw, "whsec_forged")},
    )
    assert r.status_code == 400
    assert cp.get(f"teams/{cp.team_id}").json()["plan"] == "pro"
    assert _deliver(cp, cancel, secret).status_code == 200
    assert cp.get(f"teams/{cp.team_id}").json()["plan"] == "free"
