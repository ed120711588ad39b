"""Request and response shapes of the billing endpoints."""

from __future__ import annotations

from rest_framework import serializers


class CheckoutIn(serializers.Serializer):
    plan = serializers.CharField(max_length=32)
    successUrl = serializers.URLField(max_length=2000)
    cancelUrl = serializers.URLField(max_length=2000)


class PortalIn(serializers.Serializer):
    returnUrl = serializers.URLField(max_length=2000)


class SessionOut(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()


class PlanOut(serializers.Serializer):
    name = serializers.CharField()
    purchasable = serializers.BooleanField()
    maxDeployments = serializers.IntegerField(allow_null=True)
    functionCalls = serializers.IntegerField(allow_null=True)
    dbIoBytes = serializers.IntegerField(allow_null=True)
    storageBytes = serializers.IntegerField(allow_null=True)
    actionGbHours = serializers.FloatField(allow_null=True)


class SubscriptionOut(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    plan = serializers.CharField()
    cancelAtPeriodEnd = serializers.BooleanField()


class MeteredOut(serializers.Serializer):
    """Usage sent to the Stripe billing meters for this calendar month (UTC)."""

    functionCalls = serializers.IntegerField()
    dbIoBytes = serializers.IntegerField()
    actionComputeMbMs = serializers.IntegerField()


class TeamBillingOut(serializers.Serializer):
    teamId = serializers.IntegerField()
    plan = PlanOut()
    subscription = SubscriptionOut(allow_null=True)
    hasCustomer = serializers.BooleanField()
    meteredThisMonth = MeteredOut()


class InvoiceOut(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text="draft, open, paid, uncollectible or void")
    currency = serializers.CharField()
    total = serializers.IntegerField(help_text="In the currency's smallest unit (cents)")
    amountDue = serializers.IntegerField()
    amountPaid = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Unix seconds")
    periodStart = serializers.IntegerField(allow_null=True)
    periodEnd = serializers.IntegerField(allow_null=True)
    subscription = serializers.CharField(allow_null=True)
    hostedInvoiceUrl = serializers.CharField(allow_null=True)
    invoicePdf = serializers.CharField(allow_null=True)


class InvoicesOut(serializers.Serializer):
    items = InvoiceOut(many=True)
