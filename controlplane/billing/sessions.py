"""Stripe-hosted pages: Checkout to subscribe to a plan, the customer portal to manage it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from controlplane.errors import ActionError, Conflict
from controlplane.teams.models import Team

from .client import call, stripe_client
from .config import billing_config
from .customers import ensure_customer
from .models import Subscription
from .plans import ACTIVE_STATUSES


@dataclass(frozen=True)
class HostedSession:
    id: str
    url: str


def create_checkout_session(
    team: Team, plan: str, success_url: str, cancel_url: str
) -> HostedSession:
    config = billing_config()
    price = config.prices.get(plan)
    if price is None:
        offered = ", ".join(sorted(config.prices)) or "none"
        raise ActionError(
            f"Plan {plan!r} cannot be bought; plans on sale: {offered}", code="UnknownPlan"
        )
    current = Subscription.objects.filter(team=team, status__in=ACTIVE_STATUSES).first()
    if current is not None:
        raise Conflict(
            f"Team '{team.slug}' already has an active {current.plan} subscription; "
            "change plans in the customer portal",
            code="AlreadySubscribed",
        )
    customer = ensure_customer(team)
    metadata = {"strata_team_id": str(team.pk), "strata_plan": plan}
    line_items: list[dict[str, object]] = [{"price": price, "quantity": 1}]
    line_items += [{"price": metered} for metered in config.metered_prices]
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": str(team.pk),
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
    }
    client = stripe_client(config)
    session = call(
        "checkout session creation",
        lambda: client.v1.checkout.sessions.create(params=params),  # type: ignore[arg-type]
    )
    return HostedSession(id=session.id, url=str(session.url))


def create_portal_session(team: Team, return_url: str) -> HostedSession:
    customer = ensure_customer(team)
    client = stripe_client()
    session = call(
        "customer portal session creation",
        lambda: client.v1.billing_portal.sessions.create(
            params={"customer": customer, "return_url": return_url}
        ),
    )
    return HostedSession(id=session.id, url=str(session.url))
