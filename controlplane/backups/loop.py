"""Scheduled backups when no Celery beat runs (tasks in-process: `runplatform`)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def start_backup_loop(interval: float) -> threading.Event:
    """Take due backups every `interval` s until the returned event is set."""
    from .actions import take_due_backups

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                take_due_backups()
            except Exception:
                log.exception("taking scheduled backups failed")

    threading.Thread(target=loop, name="scheduled-backups", daemon=True).start()
    return stop
