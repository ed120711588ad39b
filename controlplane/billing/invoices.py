"""The team's Stripe invoices, newest first, as the console lists them."""

from __future__ import annotations

from typing import Any

from controlplane.teams.models import Team

from .client import call, stripe_client
from .models import StripeCustomer

# One page: two years of monthly invoices.
INVOICE_LIMIT = 24


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def team_invoices(team: Team) -> list[dict[str, Any]]:
    """The invoices of the team's customer; none (and no Stripe call) before it has one."""
    customer = StripeCustomer.objects.filter(team=team).first()
    if customer is None:
        return []
    client = stripe_client()
    page = call(
        "invoice listing",
        lambda: client.v1.invoices.list(
            params={"customer": customer.customer_id, "limit": INVOICE_LIMIT}
        ),
    )
    out: list[dict[str, Any]] = []
    for invoice in page.data:
        inv = invoice.to_dict()
        if inv.get("customer") != customer.customer_id:
            continue  # never show another customer's invoice, whatever the provider answers
        subscription = inv.get("subscription")
        if isinstance(subscription, dict):
            subscription = subscription.get("id")
        out.append(
            {
                "id": str(inv["id"]),
                "number": _str(inv.get("number")),
                "status": _str(inv.get("status")) or "unknown",
                "currency": str(inv.get("currency") or ""),
                "total": _int(inv.get("total")) or 0,
                "amountDue": _int(inv.get("amount_due")) or 0,
                "amountPaid": _int(inv.get("amount_paid")) or 0,
                "created": _int(inv.get("created")) or 0,
                "periodStart": _int(inv.get("period_start")),
                "periodEnd": _int(inv.get("period_end")),
                "subscription": _str(subscription),
                "hostedInvoiceUrl": _str(inv.get("hosted_invoice_url")),
                "invoicePdf": _str(inv.get("invoice_pdf")),
            }
        )
    out.sort(key=lambda i: i["created"], reverse=True)
    return out
