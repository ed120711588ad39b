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


class TeamBillingOut(serializers.Serializer):
    teamId = serializers.IntegerField()
    plan = PlanOut()
    subscription = SubscriptionOut(allow_null=True)
    hasCustomer = serializers.BooleanField()
