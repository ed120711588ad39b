"""Celery: tasks run in-process (eager) unless REDIS_URL names a broker."""

from .env import env

_redis = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_redis or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not _redis)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = env.str("STRATA_CELERY_QUEUE", default="strata")
CELERY_BEAT_SCHEDULE = {
    "purge-deleted-deployments": {
        "task": "controlplane.deployments.tasks.purge_deleted_deployments",
        "schedule": 300.0,
    },
    # Sends subscribed teams' usage growth to Stripe meters (deduplicated: safe to repeat).
    "report-usage-to-stripe": {
        "task": "controlplane.billing.tasks.report_usage_to_stripe",
        "schedule": 900.0,
    },
    # Takes the scheduled backups that are due and prunes each schedule's old ones.
    "take-due-backups": {
        "task": "controlplane.backups.tasks.take_due_backups",
        "schedule": 300.0,
    },
}
