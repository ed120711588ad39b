"""Running one due job or cron, with the delivery guarantees the scheduler promises.

Mutations: the function and the job's "success"/"failed" mark commit in ONE transaction that
first re-reads the job and only proceeds while it is still pending. Two dispatchers racing on
the same job conflict on that read (OCC), the loser retries, sees a finished job and stops -
so a scheduled mutation runs exactly once. Actions: the job is marked inProgress in its own
commit before the action starts and is never started again from inProgress, so at most once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog

from ..runtime.outcomes import FunctionError
from ..scheduled import jobs
from ..scheduled.schedules import NEVER_MS, ScheduleError, next_run_ms
from ..scheduled.tables import CRON_LOGS
from ..transactions import DatabaseError, OccConflict, Transaction

if TYPE_CHECKING:
    from ..runtime import FunctionRunner
    from ..transactions import Database

log = structlog.get_logger(__name__)


_KIND_NAMES = {"query": "Query", "httpAction": "HttpAction"}


def _kind(runner: FunctionRunner, name: str) -> str:
    """The function's kind (unknown paths run as mutations and fail with "not found")."""
    analysis = runner.analysis
    info = analysis.function(name) if analysis is not None else None
    return "mutation" if info is None else info.kind


def _unsupported(name: str, kind: str) -> str:
    """Convex's failure of a due job that is neither a mutation nor an action."""
    module, _, function = name.partition(":")
    module = module if module.endswith(".js") else f"{module}.js"
    return (
        f'Unsupported function type. "{function or "default"}" in module "{module}" is defined '
        f"as a {_KIND_NAMES.get(kind, kind)}. Only Mutation and Action can be scheduled."
    )


def _job_args(job: dict[str, Any]) -> dict[str, Any]:
    args = job.get("args")
    first = args[0] if isinstance(args, list) and args else {}
    return first if isinstance(first, dict) else {}


def run_job(runner: FunctionRunner, db: Database, job_id: str) -> str | None:
    """Run a due scheduled function if it is still pending; returns its final state or None."""
    txn = db.begin()
    job = txn.get(job_id)
    if job is None or jobs.state_of(job) != jobs.PENDING:
        return None
    kind = _kind(runner, str(job["name"]))
    if kind == "action":
        return _run_action_job(runner, db, job_id)
    if kind != "mutation":  # a query or HTTP action: scheduling it succeeded, running fails
        return _mark(db, job_id, {jobs.PENDING}, _unsupported(str(job["name"]), kind))
    return _run_mutation_job(runner, db, job_id)


def _run_mutation_job(runner: FunctionRunner, db: Database, job_id: str) -> str | None:
    def attempt(txn: Transaction) -> str | None:
        job = txn.get(job_id)
        if job is None or jobs.state_of(job) != jobs.PENDING:
            return None
        try:
            runner.run_mutation_in_transaction(str(job["name"]), _job_args(job), None, txn, 0)
        except FunctionError as e:  # its writes were rolled back to the savepoint
            jobs.finish(txn, job_id, e.message)
            return jobs.FAILED
        after = txn.get(job_id)
        if after is not None and jobs.state_of(after) == jobs.CANCELED:
            return jobs.CANCELED  # the mutation canceled its own job: it stays canceled
        jobs.finish(txn, job_id, None)
        return jobs.SUCCESS

    try:
        result, _ = db.run_mutation(attempt)
        return result
    except OccConflict:
        log.warning("scheduled mutation kept conflicting; will retry", job=job_id)
        return None
    except DatabaseError as e:  # commit-time failure of the user's writes (limits...)
        message = f"Scheduled function could not commit: {e}"
        return _mark(db, job_id, {jobs.PENDING}, message)
    except Exception as e:  # a runtime fault: fail the job rather than retry it forever
        log.exception("scheduled mutation crashed", job=job_id)
        return _mark(db, job_id, {jobs.PENDING}, f"Internal error: {type(e).__name__}: {e}")


def _mark(db: Database, job_id: str, from_states: set[str], error: str | None) -> str | None:
    def write(txn: Transaction) -> str | None:
        job = txn.get(job_id)
        if job is None or jobs.state_of(job) not in from_states:
            return None
        jobs.finish(txn, job_id, error)
        return jobs.SUCCESS if error is None else jobs.FAILED

    result, _ = db.run_mutation(write)
    return result


def _run_action_job(runner: FunctionRunner, db: Database, job_id: str) -> str | None:
    def claim(txn: Transaction) -> dict[str, Any] | None:
        job = txn.get(job_id)
        if job is None or jobs.state_of(job) != jobs.PENDING:
            return None
        txn.patch(job_id, {"state": {"kind": jobs.IN_PROGRESS}})
        return job

    try:
        job, _ = db.run_mutation(claim)
    except OccConflict:
        return None
    if job is None:
        return None  # another dispatcher claimed it
    error: str | None = None
    try:
        runner.run_action(str(job["name"]), _job_args(job), None, allow_internal=True)
    except FunctionError as e:
        error = e.message
    except Exception as e:  # a runtime fault still ends the job (never left inProgress)
        log.exception("scheduled action crashed", job=job_id)
        error = f"Internal error: {type(e).__name__}: {e}"
    return _mark(db, job_id, {jobs.IN_PROGRESS}, error)


def fail_interrupted_actions(db: Database) -> int:
    """After a restart: actions left inProgress may have run partly; fail them, never re-run."""
    stuck = jobs.jobs_in_state(db.begin(), jobs.IN_PROGRESS, limit=10_000)
    message = "Transient error while executing action: the server restarted while it ran"
    for job in stuck:
        _mark(db, str(job["_id"]), {jobs.IN_PROGRESS}, message)
    return len(stuck)


# ----- crons --------------------------------------------------------------------------------


def _cron_log(
    txn: Transaction, cron: dict[str, Any], ts_ms: float, started: float, error: str | None
) -> None:
    spec = cron["cronSpec"]
    status: dict[str, Any] = (
        {"type": "success"} if error is None else {"type": "err", "error": error}
    )
    entry = {
        "name": cron["name"],
        "ts": ts_ms,
        "udfPath": spec["udfPath"],
        "udfArgs": spec["udfArgs"],
        "status": status,
        "executionTime": time.time() - started,
    }
    if cron.get("component"):  # a component instance's cron (its name is its own)
        entry["component"] = cron["component"]
    txn.insert(CRON_LOGS, entry)


def _advance(txn: Transaction, cron: dict[str, Any], now: float) -> float:
    """Move a cron past the run that is starting now; returns the run's scheduled ts."""
    due = float(cron["nextTs"])
    name = str(cron["name"])
    schedule = cron["cronSpec"]["cronSchedule"]
    try:
        nxt = next_run_ms(schedule, name, now, due)
        while nxt <= now:  # an interval that fell behind skips the missed runs
            nxt = next_run_ms(schedule, name, now, nxt)
    except ScheduleError as e:
        log.error("cron has an invalid schedule", cron=name, error=str(e))
        nxt = NEVER_MS
    txn.patch(str(cron["_id"]), {"prevTs": due, "nextTs": nxt})
    return due


def _cron_args(cron: dict[str, Any]) -> dict[str, Any]:
    raw = cron["cronSpec"].get("udfArgs")
    first = raw[0] if isinstance(raw, list) and raw else {}
    return first if isinstance(first, dict) else {}


def run_cron(runner: FunctionRunner, db: Database, cron_id: str) -> str | None:
    """Run a due cron once: advance its next run and log the outcome (mutations atomically)."""
    txn = db.begin()
    cron = txn.get(cron_id)
    if cron is None or float(cron["nextTs"]) > jobs.now_ms():
        return None
    path = str(cron["cronSpec"]["udfPath"])
    if _kind(runner, path) == "action":
        return _run_action_cron(runner, db, cron_id)

    def attempt(txn: Transaction) -> str | None:
        cron = txn.get(cron_id)
        now = jobs.now_ms()
        if cron is None or float(cron["nextTs"]) > now:
            return None
        started = time.time()
        due = _advance(txn, cron, now)
        error: str | None = None
        try:
            runner.run_mutation_in_transaction(path, _cron_args(cron), None, txn, 0)
        except FunctionError as e:
            error = e.message
        _cron_log(txn, cron, due, started, error)
        return jobs.SUCCESS if error is None else jobs.FAILED

    try:
        result, _ = db.run_mutation(attempt)
        return result
    except OccConflict:
        return None


def _run_action_cron(runner: FunctionRunner, db: Database, cron_id: str) -> str | None:
    def claim(txn: Transaction) -> tuple[dict[str, Any], float] | None:
        cron = txn.get(cron_id)
        now = jobs.now_ms()
        if cron is None or float(cron["nextTs"]) > now:
            return None
        return cron, _advance(txn, cron, now)

    try:
        claimed, _ = db.run_mutation(claim)
    except OccConflict:
        return None
    if claimed is None:
        return None
    cron, due = claimed
    started = time.time()
    error: str | None = None
    try:
        runner.run_action(str(cron["cronSpec"]["udfPath"]), _cron_args(cron), allow_internal=True)
    except FunctionError as e:
        error = e.message
    except Exception as e:
        log.exception("cron action crashed", cron=cron["name"])
        error = f"Internal error: {type(e).__name__}: {e}"

    def record(txn: Transaction) -> None:
        _cron_log(txn, cron, due, started, error)

    db.run_mutation(record)
    return jobs.SUCCESS if error is None else jobs.FAILED
