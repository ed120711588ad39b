"""The periodic tasks Celery beat runs exist under the names the schedule gives them."""

from __future__ import annotations

from django.conf import settings

from controlplane.celery import app


def test_every_beat_entry_names_a_registered_task() -> None:
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks
    for entry, spec in settings.CELERY_BEAT_SCHEDULE.items():
        assert spec["task"] in app.tasks, entry
        assert spec["schedule"] > 0, entry


def test_usage_is_reported_to_stripe_every_fifteen_minutes() -> None:
    entries = [
        spec
        for spec in settings.CELERY_BEAT_SCHEDULE.values()
        if spec["task"] == "controlplane.billing.tasks.report_usage_to_stripe"
    ]
    assert [spec["schedule"] for spec in entries] == [900.0]
