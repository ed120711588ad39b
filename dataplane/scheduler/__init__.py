"""Delivery of scheduled functions (`ctx.scheduler`) and crons (`convex/crons.ts`).

The system tables in dataplane/scheduled/ are the source of truth; `service.Scheduler` is the
per-process reconciler that delivers due work in-process or through Celery (delivery.py), and
executor.py runs one job with its guarantees.
"""
