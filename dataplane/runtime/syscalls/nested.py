"""`ctx.runQuery` / `ctx.runMutation` from a query or mutation: in the caller's transaction
(a nested mutation is a sub-transaction the caller may survive)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...values import from_json
from ..handles import FunctionHandleError, address_path
from ..isolate import SyscallFailure
from ..outcomes import FunctionError
from .base import Handler

if TYPE_CHECKING:
    from .database import DatabaseSyscalls


def _run_udf(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    udf_type = a.get("udfType")
    call = host.call
    try:
        name = address_path(call.runner.analysis, a, call.path)
    except FunctionHandleError as e:
        raise SyscallFailure(str(e)) from None
    if name is None:
        raise SyscallFailure("ctx.runQuery/runMutation needs a function reference")
    args = from_json(a.get("args", {}))
    if not isinstance(args, dict):
        raise SyscallFailure("ctx.runQuery/runMutation arguments must be an object")
    try:
        if udf_type in ("query", "snapshotQuery"):
            return call.runner.run_query_in_transaction(
                name, args, call.identity, host.txn, call.depth + 1
            )
        if udf_type == "mutation":
            if not host.writable:
                raise SyscallFailure("ctx.runMutation cannot be called from a query")
            return call.runner.run_mutation_in_transaction(
                name, args, call.identity, host.txn, call.depth + 1
            )
        raise SyscallFailure(f"Unknown udfType {udf_type!r} for ctx.run*")
    except FunctionError as e:
        from ..actions import nested_error

        info = nested_error(e)
        raise SyscallFailure(info["message"], info["data"]) from None


NESTED_OPS: dict[str, Handler[DatabaseSyscalls]] = {"1.0/runUdf": _run_udf}
