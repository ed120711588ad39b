"""The scheduler's system tables and their indexes (the source of truth for every job).

`_scheduled_functions` has Convex's document shape (name, args, scheduledTime, completedTime,
state); `_cron_jobs` holds the deployed crons with their next run; `_cron_job_logs` keeps one
row per cron run so history is queryable with `ctx.db.system`-style reads.
"""

from __future__ import annotations

from ..transactions import Database, IndexDefinition

SCHEDULED = "_scheduled_functions"
CRON_JOBS = "_cron_jobs"
CRON_LOGS = "_cron_job_logs"

BY_STATE = "by_state_and_time"
BY_NEXT_RUN = "by_next_run"
BY_NAME = "by_name_and_ts"

_INDEXES = {
    SCHEDULED: [IndexDefinition(BY_STATE, ["state.kind", "scheduledTime"])],
    CRON_JOBS: [IndexDefinition(BY_NEXT_RUN, ["nextTs"])],
    CRON_LOGS: [IndexDefinition(BY_NAME, ["name", "ts"])],
}


def ensure_tables(db: Database) -> None:
    """Create the tables and indexes if missing (idempotent, cheap once they exist)."""
    for table, wanted in _INDEXES.items():
        have = {i.name for i in db.indexes(table)} if table in db.table_names() else set()
        if any(d.name not in have for d in wanted):
            db.set_indexes(table, wanted)
