"""Billing routes, mounted under /v1/ next to the management API."""

from __future__ import annotations

from django.urls import path

from . import views as v

urlpatterns = [
    path("billing/plans", v.PlansView.as_view()),
    path("billing/stripe_webhook", v.stripe_webhook),
    path("teams/<int:team_id>/billing", v.TeamBillingView.as_view()),
    path("teams/<int:team_id>/billing/invoices", v.TeamInvoicesView.as_view()),
    path("teams/<int:team_id>/billing/checkout_session", v.CheckoutSessionView.as_view()),
    path("teams/<int:team_id>/billing/portal_session", v.PortalSessionView.as_view()),
]
