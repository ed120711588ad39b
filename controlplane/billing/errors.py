"""Billing failures as domain errors, so the API answers them in its usual error shape."""

from __future__ import annotations

from controlplane.errors import ActionError


class BillingDisabled(ActionError):
    status = 503
    code = "BillingDisabled"


class BillingProviderError(ActionError):
    """Stripe refused or could not be reached; the message says which call failed."""

    status = 502
    code = "BillingProviderError"
