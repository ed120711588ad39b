"""Plan changes: the team's `plan` field is what controlplane.usage.quotas enforces."""

from __future__ import annotations

from django.db import transaction

from controlplane.audit.actions import SYSTEM, record
from controlplane.teams.models import Team
from controlplane.usage.quotas import PLANS

FREE_PLAN = "free"
# Stripe statuses under which the paid plan's quotas apply (past_due: Stripe is still retrying).
ACTIVE_STATUSES = ("active", "trialing", "past_due")
# controlplane.usage.actions.enforce_quota starts the pause reason with this.
QUOTA_PAUSE_PREFIX = "quota exceeded"


def set_team_plan(team: Team, plan: str, *, reason: str) -> bool:
    """Switch a team's plan; quotas follow at once. Returns whether it changed.

    On a downgrade the team may now be over quota, so its deployments are paused by the same
    enforcement the usage ingester runs.
    """
    if plan not in PLANS:
        raise ValueError(f"Unknown plan {plan!r}")
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        previous = locked.plan
        if previous == plan:
            return False
        locked.plan = plan
        locked.save(update_fields=["plan"])
        record(
            SYSTEM, locked, "team.plan_change", locked, previous=previous, plan=plan, reason=reason
        )
    team.plan = plan
    from controlplane.usage.actions import enforce_quota

    if not enforce_quota(team):
        _resume_quota_paused(team)
    return True


def _resume_quota_paused(team: Team) -> None:
    """After an upgrade that brings the team within quota, restart what the quota paused."""
    from controlplane.deployments.actions import unpause_deployment
    from controlplane.deployments.models import Deployment, Status

    paused = Deployment.objects.filter(
        project__team=team, status=Status.PAUSED, status_reason__startswith=QUOTA_PAUSE_PREFIX
    )
    for deployment in paused:
        unpause_deployment(SYSTEM, deployment)
