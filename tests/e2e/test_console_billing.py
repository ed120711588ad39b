"""Billing as a user meets it, in Chromium against localstripe: on Usage & billing, choose a
plan and go through Checkout; back in the console the plan, the subscription and the paid
invoice show once localstripe's signed webhooks reached the control plane (no test code
between the two)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.billing.conftest import PRICES, RELAYED, create_catalog
from tests.billing.harness import LocalStripe, running_localstripe

from .conftest import ControlPlane, run_browser

pytestmark = pytest.mark.slow

WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)


@pytest.fixture
def stripe_server() -> Iterator[LocalStripe]:
    with running_localstripe("sk_test_" + secrets.token_hex(12)) as ls:
        create_catalog(ls)
        yield ls


@pytest.fixture
def control_plane_env(stripe_server: LocalStripe) -> dict[str, str]:
    return {
        "STRATA_STRIPE_SECRET_KEY": stripe_server.secret_key,
        "STRATA_STRIPE_API_BASE": stripe_server.url,
        "STRATA_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRATA_STRIPE_PRICES": ",".join(f"{k}={v}" for k, v in PRICES.items()),
    }


def test_upgrade_through_checkout_in_the_console(
    control_plane: ControlPlane, stripe_server: LocalStripe, tmp_path: Path
) -> None:
    stripe_server.register_webhook(
        "control-plane", f"{control_plane.url}/v1/billing/stripe_webhook", WEBHOOK_SECRET, RELAYED
    )
    r = run_browser(
        "billing",
        control_plane,
        tmp_path,
        STRATA_E2E_STRIPE_URL=stripe_server.url,
        STRATA_E2E_STRIPE_KEY=stripe_server.secret_key,
    )
    (tmp_path / "result.json").write_text(json.dumps(r, indent=2))  # kept for debugging
    billing = r["billing"]
    assert billing["before"] == "No paid subscription."
    assert billing["subscription"] == "Subscription: pro, active."
    assert billing["plan"] == "pro"
    assert billing["metered"].startswith("Metered usage sent to Stripe this month: 0 function")
    assert billing["invoiceRows"] == 1
    assert billing["checkoutOffered"] == 0  # plan changes go through the customer portal
    assert "paid" in billing["invoicesText"] and "25.00" in billing["invoicesText"]
    sub = stripe_server.client().v1.subscriptions.retrieve(billing["subscriptionId"])
    assert sub.status == "active"
    assert sub.metadata["strata_team_id"]  # the subscription Checkout made for the team
