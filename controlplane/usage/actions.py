"""Ingest signed usage reports from data planes, then enforce the team's plan quotas."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from contract.usage import UsageReport, UsageReportError, verify_signature
from controlplane.audit.actions import SYSTEM
from controlplane.deployments.actions import pause_deployment
from controlplane.deployments.models import Deployment, Status
from controlplane.errors import ActionError, NotFound, PermissionDenied
from controlplane.teams.models import Team

from .models import DailyUsage, IngestedReport
from .quotas import exceeded

log = logging.getLogger(__name__)


def ingest_report(raw: bytes, signature: str) -> tuple[UsageReport, bool]:
    """Count a report once; returns (report, counted). Pauses the team if it is over quota."""
    try:
        report = UsageReport.from_bytes(raw)
    except UsageReportError as exc:
        raise ActionError(str(exc), code="InvalidUsageReport") from exc
    deployment = Deployment.objects.filter(name=report.deployment, purged_at=None).first()
    if deployment is None:
        raise NotFound(f"No deployment named {report.deployment!r}")
    if not verify_signature(raw, signature, deployment.instance_secret):
        raise PermissionDenied("The usage report's signature is not valid for this deployment")
    day = datetime.fromtimestamp(report.period_end, tz=UTC).date()
    try:
        with transaction.atomic():
            IngestedReport.objects.create(deployment=deployment, report_id=report.report_id)
            row, _ = DailyUsage.objects.get_or_create(deployment=deployment, day=day)
            DailyUsage.objects.filter(pk=row.pk).update(
                function_calls=F("function_calls") + report.function_calls,
                db_bytes_read=F("db_bytes_read") + report.db_bytes_read,
                db_bytes_written=F("db_bytes_written") + report.db_bytes_written,
                action_compute_mb_ms=F("action_compute_mb_ms") + report.action_compute_mb_ms,
                storage_bytes=report.storage_bytes,
            )
    except IntegrityError:
        return report, False  # already counted: a retried push
    enforce_quota(deployment.project.team)
    return report, True


def enforce_quota(team: Team) -> list[str]:
    """Pause every running deployment of a team that is over quota; returns the problems."""
    problems = exceeded(team)
    if problems:
        reason = "quota exceeded: " + "; ".join(problems)
        running = Deployment.objects.filter(
            project__team=team, status__in=[Status.RUNNING, Status.PROVISIONING, Status.SUSPENDED]
        )
        for deployment in running:
            log.warning("pausing %s: %s", deployment.name, reason)
            pause_deployment(SYSTEM, deployment, reason=reason[:200])
    return problems
