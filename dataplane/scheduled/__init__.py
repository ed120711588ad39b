"""Scheduled functions and crons as data: the `_scheduled_functions`, `_cron_jobs` and
`_cron_job_logs` system tables (tables.py), job state transitions written inside a caller's
transaction (jobs.py), cron registration at deploy (crons.py) and next-run times
(schedules.py). The runtime writes jobs here from `ctx.scheduler`; dataplane/scheduler/
delivers them."""
