"""Stripe webhooks: verify the signature, handle each event id once, sync plans from subscriptions.

The processed-event row is written in the same transaction as the event's effects, so a failure
rolls both back and Stripe's retry gets a clean second attempt, while a redelivery of an event
that did succeed is acknowledged without being applied again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from controlplane.errors import ActionError
from controlplane.teams.models import Team

from .client import call, stripe_client
from .config import BillingConfig, billing_config
from .customers import team_for_customer
from .errors import BillingDisabled
from .models import ProcessedEvent, Subscription
from .plans import ACTIVE_STATUSES, FREE_PLAN, set_team_plan

log = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
}


class InvalidWebhook(ActionError):
    code = "InvalidWebhook"


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    duplicate: bool
    outcome: str


def verify(payload: bytes, signature: str | None, config: BillingConfig) -> dict[str, Any]:
    """The event, once its Stripe-Signature header checks out against the signing secret."""
    if not config.webhook_secret:
        raise BillingDisabled("Webhooks are not configured: set STRATA_STRIPE_WEBHOOK_SECRET")
    try:
        event = stripe.Webhook.construct_event(payload, signature, config.webhook_secret)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"Stripe signature check failed: {exc}") from exc
    except ValueError as exc:
        raise InvalidWebhook(f"The webhook body is not a JSON event: {exc}") from exc
    data = event.to_dict()
    if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
        raise InvalidWebhook("The webhook body has no event id or type")
    return data


def process_webhook(payload: bytes, signature: str | None) -> WebhookResult:
    config = billing_config()
    event = verify(payload, signature, config)
    event_id, type_ = event["id"], event["type"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                marker = ProcessedEvent.objects.create(event_id=event_id, type=type_)
        except IntegrityError:
            log.info("stripe event %s already processed", event_id)
            return WebhookResult(event_id, type_, duplicate=True, outcome="duplicate")
        outcome = _dispatch(event, config)
        marker.outcome = outcome[:200]
        marker.save(update_fields=["outcome"])
    log.info("stripe event %s (%s): %s", event_id, type_, outcome)
    return WebhookResult(event_id, type_, duplicate=False, outcome=outcome)


def _dispatch(event: dict[str, Any], config: BillingConfig) -> str:
    type_ = event["type"]
    obj = (event.get("data") or {}).get("object") or {}
    created = int(event.get("created") or 0)
    if type_ == "checkout.session.completed":
        return _checkout_completed(obj, created, config)
    if type_ in SUBSCRIPTION_EVENTS:
        team = _team_of(obj)
        if team is None:
            return "ignored: customer is not a Strata team"
        deleted = type_ == "customer.subscription.deleted"
        return sync_subscription(team, obj, created, config, deleted=deleted)
    return "ignored: event type not handled"


def _team_of(obj: dict[str, Any]) -> Team | None:
    """The team owning the Stripe customer; metadata naming another team is refused."""
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not isinstance(customer, str):
        return None
    team = team_for_customer(customer)
    claimed = (obj.get("metadata") or {}).get("strata_team_id")
    if team is not None and claimed not in (None, "", str(team.pk)):
        log.error(
            "stripe object %s claims team %s but customer %s is team %s",
            obj.get("id"),
            claimed,
            customer,
            team.pk,
        )
        return None
    return team


def _checkout_completed(obj: dict[str, Any], created: int, config: BillingConfig) -> str:
    if obj.get("mode") != "subscription" or not obj.get("subscription"):
        return "ignored: not a subscription checkout"
    team = _team_of(obj)
    if team is None:
        return "ignored: customer is not a Strata team"
    sub_id = obj["subscription"]
    if isinstance(sub_id, dict):
        sub_id = sub_id["id"]
    client = stripe_client(config)
    subscription = call(
        "subscription lookup", lambda: client.v1.subscriptions.retrieve(str(sub_id))
    )
    return sync_subscription(team, subscription.to_dict(), created, config, deleted=False)


def _price_ids(sub: dict[str, Any]) -> list[str]:
    items = (sub.get("items") or {}).get("data") or []
    out = []
    for item in items:
        # `price` on current API versions; older ones (and localstripe) name it `plan`, which
        # carries the same id.
        price = item.get("price") or item.get("plan") or {}
        price_id = price.get("id") if isinstance(price, dict) else price
        if isinstance(price_id, str):
            out.append(price_id)
    return out


def sync_subscription(
    team: Team, sub: dict[str, Any], created: int, config: BillingConfig, *, deleted: bool
) -> str:
    """Record the subscription and put the team on the plan its prices and status grant."""
    sub_id = str(sub.get("id") or "")
    if not sub_id:
        return "ignored: subscription without id"
    status = "canceled" if deleted else str(sub.get("status") or "")
    active_status = status in ACTIVE_STATUSES
    price_ids = _price_ids(sub)
    plans = [p for p in (config.plan_for_price(pid) for pid in price_ids) if p is not None]
    # Lock the team first: two events of a subscription the team does not have yet (checkout
    # completed, subscription created) arrive together, and a missing row locks nothing.
    Team.objects.select_for_update().filter(pk=team.pk).first()
    row = Subscription.objects.select_for_update().filter(team=team).first()
    if row is not None and row.subscription_id == sub_id and created < row.last_event_created:
        return "ignored: older than the last applied event"
    replacing = row is not None and row.subscription_id != sub_id
    if replacing and row is not None and row.status in ACTIVE_STATUSES and not active_status:
        return "ignored: not the team's current subscription"
    active = status in ACTIVE_STATUSES
    if active and not plans:
        log.error("subscription %s has no price mapped to a plan: %s", sub_id, price_ids)
        return f"ignored: no configured plan for prices {price_ids}"
    plan = plans[0] if active else FREE_PLAN
    fields = {
        "subscription_id": sub_id,
        "status": status,
        "plan": plans[0] if plans else FREE_PLAN,
        "price_ids": price_ids,
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "last_event_created": created,
        "updated_at": timezone.now(),
    }
    if row is None:
        Subscription.objects.create(team=team, **fields)
    else:
        Subscription.objects.filter(pk=row.pk).update(**fields)
    changed = set_team_plan(team, plan, reason=f"stripe subscription {sub_id} {status}")
    return f"team {team.pk} on plan {plan} ({status}){'' if changed else ', unchanged'}"
