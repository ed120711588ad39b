"""Scheduled functions (`ctx.scheduler`) and crons (`convex/crons.ts`).

The `_scheduled_functions` and `_cron_jobs` system tables are the source of truth (tables.py,
jobs.py, crons.py); `service.Scheduler` is the per-process reconciler that delivers due work
in-process or through Celery (delivery.py); executor.py runs one job with its guarantees.
Import the submodules directly: the runtime's syscalls import jobs.py, so this package's
top level stays free of runtime imports.
"""
