"""What billing remembers: team customers and subscriptions, handled events, usage sent."""

from __future__ import annotations

from django.db import models

from controlplane.teams.models import Team


class StripeCustomer(models.Model):
    """One Stripe customer per team; the only trusted link from Stripe objects back to a team."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="stripe_customer")
    customer_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Subscription(models.Model):
    """The team's current Stripe subscription as last reported by a webhook."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="subscription")
    subscription_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=32)
    plan = models.CharField(max_length=32)
    price_ids = models.JSONField(default=list)
    cancel_at_period_end = models.BooleanField(default=False)
    # `created` of the newest event applied, so an older event delivered late is ignored.
    last_event_created = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class ProcessedEvent(models.Model):
    """Stripe event ids already handled: a redelivered event is acknowledged, not reapplied."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=200, blank=True, default="")
    processed_at = models.DateTimeField(auto_now_add=True)


class MeterReport(models.Model):
    """How much of one meter for one team and day has been sent to Stripe already."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    meter = models.CharField(max_length=64)
    day = models.DateField()
    reported = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "meter", "day"], name="meter_report_day")
        ]
