"""Celery tasks of backups (eager without a broker); beat runs `take_due_backups`."""

from __future__ import annotations

from celery import shared_task

from . import actions


@shared_task
def run_backup(backup_id: int) -> str:
    return actions.run_backup(backup_id)


@shared_task
def run_restore(restore_id: int) -> str:
    return actions.run_restore(restore_id)


@shared_task
def take_due_backups() -> list[int]:
    return actions.take_due_backups()
