"""The `ctx.scheduler` syscalls: `1.0/schedule`, `1.0/cancel_job` and their action variants.

Mutations write into their own transaction (atomic with the rest of the mutation); actions have
no transaction, so each call commits a small one of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..scheduled import jobs
from ..transactions import DatabaseError, Transaction
from ..values import ConvexValueError, from_json

if TYPE_CHECKING:
    from .runner import CallContext

SCHEDULE_OPS = frozenset({"1.0/schedule", "1.0/actions/schedule"})
CANCEL_OPS = frozenset({"1.0/cancel_job", "1.0/actions/cancel_job"})
OPS = SCHEDULE_OPS | CANCEL_OPS


def _target(call: CallContext, a: dict[str, Any]) -> str:
    """The canonical path of the scheduled function (which must exist when scheduled)."""
    from .handles import FunctionHandleError, address_path

    analysis = call.runner.analysis
    try:
        name = address_path(analysis, a, call.path)  # a name, reference or function handle
    except FunctionHandleError as e:
        raise jobs.ScheduleError(str(e)) from None
    if name is None:
        raise jobs.ScheduleError("ctx.scheduler needs a function reference")
    try:
        info = analysis.function(name) if analysis is not None else None
    except ValueError:
        info = None
    if info is None:
        raise jobs.ScheduleError(f"Attempted to schedule function at nonexistent path: {name}")
    # Like Convex, any function may be scheduled; a job that is not a mutation or an action
    # fails when it is due (scheduler/executor.py), since the code may change before then.
    return info.path


def _args(call: CallContext, a: dict[str, Any]) -> dict[str, Any]:
    raw = a.get("args", {})
    try:
        args = from_json(raw)
    except ConvexValueError as e:
        raise jobs.ScheduleError(f"Invalid arguments for a scheduled function: {e}") from None
    if isinstance(args, list):  # some callers pass the [args] array form
        args = args[0] if args else {}
    if not isinstance(args, dict):
        raise jobs.ScheduleError("Arguments of a scheduled function must be an object")
    return args


def schedule_in(call: CallContext, txn: Transaction, a: dict[str, Any]) -> str:
    """ctx.scheduler.runAfter/runAt inside a mutation's transaction."""
    return jobs.schedule(txn, _target(call, a), _args(call, a), a.get("ts"), call.namespace)


def cancel_in(call: CallContext, txn: Transaction, a: dict[str, Any]) -> None:
    jobs.cancel(txn, a.get("id"), call.namespace)


def handle_action(call: CallContext, op: str, a: dict[str, Any]) -> Any:
    """The action variants: one committed transaction per call."""
    db = call.runner.db
    try:
        if op in SCHEDULE_OPS:
            target, args = _target(call, a), _args(call, a)
            owner = call.namespace
            job_id, _ = db.run_mutation(
                lambda txn: jobs.schedule(txn, target, args, a.get("ts"), owner)
            )
            return job_id
        db.run_mutation(lambda txn: cancel_in(call, txn, a))
        return None
    except DatabaseError as e:
        raise jobs.ScheduleError(str(e)) from None
