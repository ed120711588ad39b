"""A configured StripeClient; every Stripe call goes through `call()` to map its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import stripe

from .config import BillingConfig, billing_config
from .errors import BillingDisabled, BillingProviderError

T = TypeVar("T")


def stripe_client(config: BillingConfig | None = None) -> stripe.StripeClient:
    config = config or billing_config()
    if not config.enabled:
        raise BillingDisabled("Billing is not configured: set STRATA_STRIPE_SECRET_KEY")
    return stripe.StripeClient(
        config.secret_key,
        base_addresses={"api": config.api_base},
        max_network_retries=2,
    )


def call(what: str, fn: Callable[[], T]) -> T:
    """Run one Stripe request, turning Stripe's exceptions into BillingProviderError."""
    try:
        return fn()
    except stripe.StripeError as exc:
        detail = exc.user_message or str(exc) or type(exc).__name__
        raise BillingProviderError(f"Stripe {what} failed: {detail}") from exc
