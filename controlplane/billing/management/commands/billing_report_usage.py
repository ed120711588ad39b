"""`manage.py billing_report_usage`: push metered usage to Stripe now (cron-friendly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from controlplane.billing.metering import report_all_usage


class Command(BaseCommand):
    help = "Send each subscribed team's new usage to Stripe billing meters."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = report_all_usage()
        for event in sent:
            self.stdout.write(f"team {event.team_id} {event.meter} {event.day}: +{event.value}")
        self.stdout.write(f"{len(sent)} meter events sent")
