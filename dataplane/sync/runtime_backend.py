"""SyncBackend over the deployment's V8 FunctionRunner (convex-JSON in, convex-JSON out)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..auth import Identity
from ..runtime.errorformat import SystemFailure, server_error
from ..values import ConvexValueError, from_json, to_json
from .backend import (
    ActionRun,
    FunctionFailure,
    MutationRun,
    QueryFailed,
    QueryRun,
    RetryableFailure,
)

if TYPE_CHECKING:
    from ..runtime import FunctionRunner
    from ..runtime.outcomes import FunctionError, LogLine


def _lines(logs: list[LogLine]) -> tuple[str, ...]:
    return tuple(line.formatted() for line in logs)


def _failure(exc: FunctionError) -> FunctionFailure:
    data = to_json(exc.data) if exc.has_data else None
    return FunctionFailure(server_error(exc.message, exc.request_id), data, _lines(exc.logs))


def _args(args: dict[str, Any]) -> dict[str, Any]:
    try:
        value = from_json(args)
    except ConvexValueError as exc:
        raise FunctionFailure(f"Invalid arguments: {exc}") from exc
    if not isinstance(value, dict):
        raise FunctionFailure("Arguments must be an object")
    return value


class RuntimeBackend:
    """Runs sync sessions' functions in the deployment's runtime; admins may call internals."""

    def __init__(self, runner: FunctionRunner) -> None:
        self.runner = runner

    def latest_ts(self) -> int:
        return self.runner.db.latest_ts()

    def run_query(
        self,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        ts: int,
        journal: str | None,
    ) -> QueryRun | QueryFailed:
        from ..runtime.outcomes import FunctionError

        admin = identity is not None and identity.admin
        try:
            out = self.runner.run_query(
                path,
                _args(args),
                identity,
                ts,
                allow_internal=admin,
                journal=journal,
                args_json=args,
            )
        except FunctionError as exc:
            if exc.read_set is not None and exc.read_ts is not None:
                # The code threw: re-run only when something it read changes.
                return QueryFailed(_failure(exc), exc.read_set, exc.read_ts)
            raise _failure(exc) from exc  # time-outs, bad arguments...: re-run on any commit
        return QueryRun(out.value_json, _lines(out.logs), out.read_set, out.ts, out.journal)

    def run_mutation(
        self,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        request_key: str | None = None,
        first_send: bool = False,
    ) -> MutationRun:
        from ..runtime.outcomes import FunctionError

        admin = identity is not None and identity.admin
        try:
            out = self.runner.run_mutation(
                path,
                _args(args),
                identity,
                allow_internal=admin,
                request_key=request_key,
                first_send=first_send,
                args_json=args,
            )
        except SystemFailure as exc:
            raise RetryableFailure(exc.code, exc.detail) from exc
        except FunctionError as exc:
            raise _failure(exc) from exc
        return MutationRun(out.value_json, _lines(out.logs), out.commit_ts)

    def run_action(self, path: str, args: dict[str, Any], identity: Identity | None) -> ActionRun:
        from ..runtime.outcomes import FunctionError

        admin = identity is not None and identity.admin
        try:
            out = self.runner.run_action(
                path, _args(args), identity, allow_internal=admin, args_json=args
            )
        except FunctionError as exc:
            raise _failure(exc) from exc
        return ActionRun(out.value_json, _lines(out.logs))
