"""Billing endpoints: plan list, a team's billing state, Checkout/portal sessions, the webhook."""

from __future__ import annotations

from typing import Any

import orjson
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.api.docs import op
from controlplane.api.scoping import TeamScopedView
from controlplane.errors import ActionError
from controlplane.teams.models import Role, Team
from controlplane.usage.aggregation import month_start
from controlplane.usage.quotas import PLANS, Plan, plan_for

from . import serializers as s
from .config import billing_config
from .invoices import team_invoices
from .models import MeterReport, StripeCustomer, Subscription
from .sessions import create_checkout_session, create_portal_session
from .webhooks import process_webhook


def _plan_out(plan: Plan, purchasable: bool) -> dict[str, Any]:
    return {
        "name": plan.name,
        "purchasable": purchasable,
        "maxDeployments": plan.max_deployments,
        "functionCalls": plan.function_calls,
        "dbIoBytes": plan.db_io_bytes,
        "storageBytes": plan.storage_bytes,
        "actionGbHours": plan.action_gb_hours,
    }


def _body(serializer: type[s.serializers.Serializer], request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _metered_this_month(team: Team) -> dict[str, int]:
    rows = (
        MeterReport.objects.filter(team=team, day__gte=month_start())
        .values("meter")
        .annotate(total=Sum("reported"))
    )
    sent = {row["meter"]: int(row["total"] or 0) for row in rows}
    return {
        "functionCalls": sent.get("function_calls", 0),
        "dbIoBytes": sent.get("db_io_bytes", 0),
        "actionComputeMbMs": sent.get("action_compute_mb_ms", 0),
    }


class PlansView(TeamScopedView):
    @op(response=s.PlanOut(many=True), tags=["billing"])
    def get(self, request: Request) -> Response:
        prices = billing_config().prices
        return Response([_plan_out(p, p.name in prices) for p in PLANS.values()])


class TeamBillingView(TeamScopedView):
    @op(response=s.TeamBillingOut, tags=["billing"])
    def get(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id)
        sub = Subscription.objects.filter(team=team).first()
        plan = plan_for(team)
        return Response(
            {
                "teamId": team.pk,
                "plan": _plan_out(plan, plan.name in billing_config().prices),
                "subscription": None
                if sub is None
                else {
                    "id": sub.subscription_id,
                    "status": sub.status,
                    "plan": sub.plan,
                    "cancelAtPeriodEnd": sub.cancel_at_period_end,
                },
                "hasCustomer": StripeCustomer.objects.filter(team=team).exists(),
                "meteredThisMonth": _metered_this_month(team),
            }
        )


class TeamInvoicesView(TeamScopedView):
    @op(response=s.InvoicesOut, tags=["billing"])
    def get(self, request: Request, team_id: int) -> Response:
        """The team's Stripe invoices, newest first (empty until the team has a customer)."""
        return Response({"items": team_invoices(self.team(team_id))})


class CheckoutSessionView(TeamScopedView):
    @op(request=s.CheckoutIn, response=s.SessionOut, status=201, tags=["billing"])
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        body = _body(s.CheckoutIn, request)
        session = create_checkout_session(team, body["plan"], body["successUrl"], body["cancelUrl"])
        return Response({"id": session.id, "url": session.url}, status=201)


class PortalSessionView(TeamScopedView):
    @op(request=s.PortalIn, response=s.SessionOut, status=201, tags=["billing"])
    def post(self, request: Request, team_id: int) -> Response:
        team = self.team(team_id, Role.ADMIN)
        session = create_portal_session(team, _body(s.PortalIn, request)["returnUrl"])
        return Response({"id": session.id, "url": session.url}, status=201)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Unauthenticated by design: the Stripe signature is the authentication."""
    try:
        result = process_webhook(request.body, request.headers.get("Stripe-Signature"))
    except ActionError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)
    return HttpResponse(
        orjson.dumps(
            {
                "received": True,
                "eventId": result.event_id,
                "duplicate": result.duplicate,
                "outcome": result.outcome,
            }
        ),
        content_type="application/json",
    )
