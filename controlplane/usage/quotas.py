"""Plan quotas: what a team may use per calendar month, and the checks that enforce them."""

from __future__ import annotations

from dataclasses import dataclass

from controlplane.errors import QuotaExceeded
from controlplane.teams.models import Team

GIB = 1024**3
MB_MS_PER_GB_HOUR = 1024 * 3_600_000


@dataclass(frozen=True)
class Plan:
    name: str
    max_deployments: int | None
    function_calls: int | None  # per month
    db_io_bytes: int | None  # read + written, per month
    storage_bytes: int | None  # current total
    action_gb_hours: float | None  # per month


PLANS = {
    "free": Plan("free", 40, 1_000_000, 1 * GIB, GIB // 2, 20.0),
    "pro": Plan("pro", 300, 25_000_000, 50 * GIB, 50 * GIB, 250.0),
    "unlimited": Plan("unlimited", None, None, None, None, None),
}


def plan_for(team: Team) -> Plan:
    return PLANS.get(team.plan, PLANS["free"])


def exceeded(team: Team) -> list[str]:
    """Human-readable descriptions of every quota the team is over this month."""
    from .aggregation import team_month_usage

    plan, used = plan_for(team), team_month_usage(team)
    problems = []
    checks: list[tuple[str, float, float | int | None]] = [
        ("monthly function calls", used.function_calls, plan.function_calls),
        (
            "monthly database I/O bytes",
            used.db_bytes_read + used.db_bytes_written,
            plan.db_io_bytes,
        ),
        ("database storage bytes", used.storage_bytes, plan.storage_bytes),
        ("monthly action compute GB-hours", used.action_gb_hours, plan.action_gb_hours),
    ]
    for label, value, limit in checks:
        if limit is not None and value > limit:
            problems.append(f"{label} ({value:,.6g} of {limit:,.6g})")
    return problems


def check_within_quota(team: Team) -> None:
    problems = exceeded(team)
    if problems:
        raise QuotaExceeded(
            f"Team '{team.slug}' is over its {plan_for(team).name} plan quota: "
            + "; ".join(problems)
            + ". Upgrade the plan or wait for the next billing period."
        )


def check_can_create_deployment(team: Team) -> None:
    from controlplane.deployments.models import Deployment, Status

    plan = plan_for(team)
    if plan.max_deployments is not None:
        count = Deployment.objects.filter(project__team=team).exclude(status=Status.DELETED).count()
        if count >= plan.max_deployments:
            raise QuotaExceeded(
                f"Team '{team.slug}' already has {count} deployments, the most its "
                f"{plan.name} plan allows; delete one or upgrade the plan."
            )
    check_within_quota(team)
