"""Billing settings, read from Django settings first and the environment second.

Prices map plan names (the keys of controlplane.usage.quotas.PLANS) to Stripe price ids, e.g.
STRATA_STRIPE_PRICES="pro=price_123,unlimited=price_456". Metered prices are added to every
checkout so usage reported against the meters is invoiced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

DEFAULT_API_BASE = "https://api.stripe.com"
DEFAULT_METERS = {
    "function_calls": "strata_function_calls",
    "db_io_bytes": "strata_db_io_bytes",
    "action_compute_mb_ms": "strata_action_compute_mb_ms",
}


@dataclass(frozen=True)
class BillingConfig:
    secret_key: str
    webhook_secret: str
    api_base: str = DEFAULT_API_BASE
    prices: dict[str, str] = field(default_factory=dict)  # plan -> price id
    metered_prices: tuple[str, ...] = ()
    meters: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_METERS))

    @property
    def enabled(self) -> bool:
        return bool(self.secret_key)

    def plan_for_price(self, price_id: str) -> str | None:
        for plan, price in self.prices.items():
            if price == price_id:
                return plan
        return None


def _value(name: str, default: Any = "") -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    return os.environ.get(name, default)


def _mapping(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    pairs = [p.strip() for p in str(raw or "").split(",") if p.strip()]
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"Expected name=value in a billing setting, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def _list(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, list | tuple):
        return tuple(str(v) for v in raw)
    return tuple(p.strip() for p in str(raw or "").split(",") if p.strip())


def billing_config() -> BillingConfig:
    """The current configuration (read on every call so tests and reloads see changes)."""
    return BillingConfig(
        secret_key=str(_value("STRATA_STRIPE_SECRET_KEY")),
        webhook_secret=str(_value("STRATA_STRIPE_WEBHOOK_SECRET")),
        api_base=str(_value("STRATA_STRIPE_API_BASE", DEFAULT_API_BASE)).rstrip("/"),
        prices=_mapping(_value("STRATA_STRIPE_PRICES")),
        metered_prices=_list(_value("STRATA_STRIPE_METERED_PRICES")),
        meters={**DEFAULT_METERS, **_mapping(_value("STRATA_STRIPE_METERS"))},
    )
