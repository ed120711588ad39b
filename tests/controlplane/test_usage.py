"""Usage reports from data planes: signature, idempotency, aggregation, quota enforcement."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from contract.usage import SIGNATURE_HEADER, UsageMeter, UsageReport, sign_report
from controlplane.deployments.models import Deployment
from controlplane.teams.models import Team

from .conftest import Caller

pytestmark = pytest.mark.django_db


def push(deployment: Deployment, secret: str | None = None, **counters: int) -> Any:
    report = UsageReport(
        deployment=deployment.name,
        report_id=counters.pop("report_id", None) or uuid.uuid4().hex,  # type: ignore[arg-type]
        period_start=time.time() - 30,
        period_end=time.time(),
        **counters,
    )
    raw = report.to_bytes()
    signature = sign_report(raw, secret or deployment.instance_secret)
    return APIClient().generic(
        "POST",
        "/v1/usage/report",
        raw,
        content_type="application/json",
        **{f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": signature},
    )


def make_deployments(caller: Caller, team_id: int) -> list[Deployment]:
    for name in ("one", "two"):
        r = caller.post(
            f"teams/{team_id}/create_project", {"projectName": name, "deploymentType": "prod"}
        )
        assert r.status_code == 201
    return list(Deployment.objects.filter(project__team_id=team_id).order_by("pk"))


def test_reports_aggregate_per_deployment_and_team(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    one, two = make_deployments(caller, team_id)
    r = push(one, function_calls=10, db_bytes_read=1000, storage_bytes=5000, report_id="r1")
    assert r.status_code == 200 and r.json() == {"counted": True}
    # The same report again (a retried push) is not counted twice.
    again = push(one, function_calls=10, db_bytes_read=1000, storage_bytes=5000, report_id="r1")
    assert again.json() == {"counted": False}
    push(one, function_calls=5, db_bytes_written=7, storage_bytes=6000)
    push(two, function_calls=1, action_compute_mb_ms=64 * 1000, storage_bytes=100)

    usage = caller.get(f"deployments/{one.name}/usage").json()
    assert usage["functionCalls"] == 15
    assert usage["dbBytesRead"] == 1000 and usage["dbBytesWritten"] == 7
    assert usage["storageBytes"] == 6000  # a gauge: the latest value, not a sum
    team = caller.get(f"teams/{team_id}/usage").json()
    assert team["plan"] == "free" and team["overQuota"] == []
    assert team["usage"]["functionCalls"] == 16
    assert team["usage"]["storageBytes"] == 6100
    assert team["usage"]["actionGbHours"] == pytest.approx(64 * 1000 / (1024 * 3_600_000))


def test_bad_reports_are_refused(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    one, _ = make_deployments(caller, team_id)
    r = push(one, secret="not-the-secret", function_calls=1)
    assert r.status_code == 403
    r = APIClient().post("/v1/usage/report", {"deployment": one.name}, format="json")
    assert r.status_code == 400 and "missing" in r.json()["message"]
    r = APIClient().generic("POST", "/v1/usage/report", b"{nope", content_type="application/json")
    assert r.status_code == 400
    ghost = Deployment(name="ghost-otter-111", instance_secret="x")
    assert push(ghost, function_calls=1).status_code == 404


def test_over_quota_pauses_and_rejects(
    team_owner: tuple[Caller, int], django_capture_on_commit_callbacks: Any
) -> None:
    caller, team_id = team_owner
    one, two = make_deployments(caller, team_id)
    Deployment.objects.filter(pk__in=[one.pk, two.pk]).update(status="running")
    with django_capture_on_commit_callbacks(execute=True):
        r = push(one, function_calls=1_000_001)
    assert r.status_code == 200
    for deployment in (one, two):
        deployment.refresh_from_db()
        assert deployment.status == "paused"
        assert "monthly function calls" in deployment.status_reason
    team = caller.get(f"teams/{team_id}/usage").json()
    assert team["overQuota"] and "function calls" in team["overQuota"][0]

    r = caller.post(
        f"teams/{team_id}/create_project", {"projectName": "x", "deploymentType": "dev"}
    )
    assert r.status_code == 402 and r.json()["code"] == "QuotaExceeded"
    assert "free plan" in r.json()["message"]
    r = caller.post(f"deployments/{one.name}/unpause")
    assert r.status_code == 402

    Team.objects.filter(pk=team_id).update(plan="pro")  # an upgrade lifts the block
    assert caller.post(f"deployments/{one.name}/unpause").status_code == 200


def test_deployment_count_quota(team_owner: tuple[Caller, int], monkeypatch: Any) -> None:
    from controlplane.usage import quotas

    caller, team_id = team_owner
    monkeypatch.setitem(quotas.PLANS, "free", quotas.Plan("free", 1, None, None, None, None))
    r = caller.post(
        f"teams/{team_id}/create_project", {"projectName": "a", "deploymentType": "prod"}
    )
    assert r.status_code == 201
    r = caller.post(
        f"teams/{team_id}/create_project", {"projectName": "b", "deploymentType": "prod"}
    )
    assert r.status_code == 402 and "1 deployments" in r.json()["message"]


def test_meter_drain_and_restore() -> None:
    meter = UsageMeter()
    meter.add(function_calls=3, db_bytes_read=10)
    meter.set_storage_bytes(99)
    report = meter.drain("happy-otter-123")
    assert (report.function_calls, report.db_bytes_read, report.storage_bytes) == (3, 10, 99)
    assert meter.drain("happy-otter-123").function_calls == 0
    meter.restore(report)
    assert meter.drain("happy-otter-123").function_calls == 3
    with pytest.raises(KeyError):
        meter.add(bogus=1)
    assert UsageReport.from_bytes(report.to_bytes()) == report


def test_daily_usage_for_the_month(team_owner: tuple[Caller, int]) -> None:
    """Per day of this month: counters summed over deployments, storage as a carried gauge."""
    from datetime import timedelta

    from django.utils import timezone

    from controlplane.usage.aggregation import team_daily_usage
    from controlplane.usage.models import DailyUsage

    caller, team_id = team_owner
    one, two = make_deployments(caller, team_id)
    today = timezone.now().date()
    first = today.replace(day=1)
    DailyUsage.objects.create(deployment=one, day=first, function_calls=3, storage_bytes=100)
    DailyUsage.objects.create(deployment=two, day=first, function_calls=4, storage_bytes=50)
    DailyUsage.objects.create(deployment=one, day=today, function_calls=5, storage_bytes=300)
    previous = first - timedelta(days=1)  # last month: not in this month's series
    DailyUsage.objects.create(deployment=one, day=previous, function_calls=1000)

    items = caller.get(f"teams/{team_id}/usage/daily").json()["items"]
    assert [i["day"] for i in items] == [
        (first + timedelta(days=n)).isoformat() for n in range((today - first).days + 1)
    ]
    assert items == team_daily_usage(one.project.team)
    if today == first:
        assert items[0]["functionCalls"] == 12 and items[0]["storageBytes"] == 350
    else:
        assert items[0]["functionCalls"] == 7 and items[0]["storageBytes"] == 150
        assert items[-1]["functionCalls"] == 5 and items[-1]["storageBytes"] == 350
        assert all(i["storageBytes"] == 150 for i in items[1:-1])  # carried, not zero
    other = caller.get("teams/999999/usage/daily")
    assert other.status_code == 404
