"""One Stripe customer per team, created on first need and never duplicated."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from controlplane.teams.models import Team

from .client import call, stripe_client
from .models import StripeCustomer


def ensure_customer(team: Team) -> str:
    """The team's Stripe customer id, creating the customer if the team has none yet.

    The idempotency key is derived from the team, so two racing requests (or a retry after a
    lost response) make Stripe return the same customer instead of a second one.
    """
    existing = StripeCustomer.objects.filter(team=team).first()
    if existing is not None:
        return existing.customer_id
    client = stripe_client()
    customer = call(
        "customer creation",
        lambda: client.v1.customers.create(
            params={
                "name": team.name,
                "metadata": {"strata_team_id": str(team.pk), "strata_team_slug": team.slug},
            },
            options={"idempotency_key": f"strata-team-customer-{team.pk}"},
        ),
    )
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(team=team, customer_id=customer.id)
    except IntegrityError:
        pass  # a concurrent request stored it first; it is the same customer
    return StripeCustomer.objects.get(team=team).customer_id


def team_for_customer(customer_id: str) -> Team | None:
    row = StripeCustomer.objects.select_related("team").filter(customer_id=customer_id).first()
    return row.team if row is not None else None
