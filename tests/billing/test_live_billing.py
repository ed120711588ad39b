"""End to end on a live control plane (daphne + PostgreSQL) and localstripe: subscribe through
Checkout, localstripe's signed webhook moves the team to the paid plan, redeliveries sent in
parallel apply it once (daphne may serialize them; the unique event id is what guarantees it
either way), and a cancellation localstripe delivers to the control plane itself brings the team
back to the free plan."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.terraform.live_control_plane import ControlPlane, running_control_plane

from .conftest import AMOUNTS, PRICES, RELAYED, create_catalog, sign
from .harness import DELIVERY_TIMEOUT_S, Delivery, LocalStripe, WebhookRelay, running_localstripe


@dataclass
class Live:
    cp: ControlPlane
    ls: LocalStripe
    relay: WebhookRelay
    secret: str


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    webhook_secret = "whsec_" + secrets.token_hex(16)
    with running_localstripe("sk_test_" + secrets.token_hex(12)) as ls:
        create_catalog(ls)
        relay = WebhookRelay()
        ls.register_webhook("relay", relay.url, webhook_secret, RELAYED)
        env = {
            "STRATA_STRIPE_SECRET_KEY": ls.secret_key,
            "STRATA_STRIPE_API_BASE": ls.url,
            "STRATA_STRIPE_WEBHOOK_SECRET": webhook_secret,
            "STRATA_STRIPE_PRICES": ",".join(f"{k}={v}" for k, v in PRICES.items()),
        }
        try:
            with running_control_plane(tmp_path, env) as cp:
                yield Live(cp, ls, relay, webhook_secret)
        finally:
            relay.close()


def _deliver(cp: ControlPlane, delivery: Delivery) -> httpx.Response:
    return httpx.post(
        f"{cp.url}/v1/billing/stripe_webhook",
        content=delivery.body,
        headers={"Stripe-Signature": delivery.signature, "Content-Type": "application/json"},
        timeout=60,
    )


def test_checkout_to_paid_plan_and_back(live: Live) -> None:
    cp, ls = live.cp, live.ls
    r = cp.post(
        f"teams/{cp.team_id}/billing/checkout_session",
        {"plan": "pro", "successUrl": "https://x.test/ok", "cancelUrl": "https://x.test/no"},
    )
    assert r.status_code == 201, r.text
    session = ls.complete_checkout(r.json()["id"])
    completed = live.relay.wait_for("checkout.session.completed", id=session["id"])
    created = live.relay.wait_for("customer.subscription.created", id=session["subscription"])

    # Both events of the new subscription, each delivered three times, all at once.
    deliveries = [completed, created] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda d: _deliver(cp, d), deliveries))
    assert all(resp.status_code == 200 for resp in responses), [x.text for x in responses]
    for event_id in (completed.event["id"], created.event["id"]):
        dup = sorted(r.json()["duplicate"] for r in responses if r.json()["eventId"] == event_id)
        assert dup == [False, True, True]

    assert cp.get(f"teams/{cp.team_id}").json()["plan"] == "pro"
    billing = cp.get(f"teams/{cp.team_id}/billing").json()
    assert billing["subscription"]["status"] == "active"
    assert billing["plan"]["name"] == "pro"
    (invoice,) = cp.get(f"teams/{cp.team_id}/billing/invoices").json()["items"]
    assert (invoice["status"], invoice["amountPaid"]) == ("paid", AMOUNTS["pro"])

    with psycopg.connect(cp.database_url) as conn:
        (processed,) = conn.execute(
            "SELECT count(*) FROM strata_billing_processedevent WHERE event_id = %s",
            [completed.event["id"]],
        ).fetchone() or (0,)
        (changes,) = conn.execute(
            "SELECT count(*) FROM strata_audit_auditevent WHERE action = 'team.plan_change'"
        ).fetchone() or (0,)
    assert processed == 1
    assert changes == 1

    # A forged delivery (localstripe's body, signed with another secret) changes nothing.
    forged = Delivery(created.body.replace(b'"active"', b'"canceled"'), "")
    forged = Delivery(forged.body, sign(forged.body, "whsec_forged"))
    assert _deliver(cp, forged).status_code == 400
    assert cp.get(f"teams/{cp.team_id}").json()["plan"] == "pro"

    # Cancelling in Stripe: localstripe itself delivers the signed event to the control plane.
    ls.register_webhook(
        "control-plane",
        f"{cp.url}/v1/billing/stripe_webhook",
        live.secret,
        ["customer.subscription.deleted"],
    )
    ls.client().v1.subscriptions.cancel(session["subscription"])
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while cp.get(f"teams/{cp.team_id}").json()["plan"] != "free":
        assert time.monotonic() < deadline, "the cancellation never reached the control plane"
        time.sleep(0.2)
    assert cp.get(f"teams/{cp.team_id}/billing").json()["subscription"]["status"] == "canceled"
