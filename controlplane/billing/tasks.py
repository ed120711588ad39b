"""Celery entry point for the periodic usage report to Stripe."""

from __future__ import annotations

from celery import shared_task

from .metering import report_all_usage


@shared_task(name="controlplane.billing.tasks.report_usage_to_stripe")
def report_usage_to_stripe() -> int:
    return len(report_all_usage())
