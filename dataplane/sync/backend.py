"""What the sync layer needs from function execution, as a small Protocol.

The deployment's FunctionRunner is adapted to it in `runtime_backend.py`; keeping the sync
layer on this narrow seam lets its tests drive the real Database with Python functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..auth import Identity
from ..transactions import ReadSet


class FunctionFailure(Exception):
    """A function failed; `data` is the convex-JSON ConvexError data or None."""

    def __init__(self, message: str, data: Any = None, log_lines: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        self.log_lines = log_lines


class RetryableFailure(Exception):
    """The deployment could not run the function now (a write conflict, overload): the
    socket closes with `code` as its reason, and the client reconnects and resends."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class QueryRun:
    """A query's result (convex-JSON), its log lines and what it read, at `ts`."""

    value: Any
    log_lines: tuple[str, ...]
    read_set: ReadSet
    ts: int
    journal: str | None = None


@dataclass(frozen=True, slots=True)
class QueryFailed:
    """A query that threw: still reactive, because what it read may change its outcome."""

    error: FunctionFailure
    read_set: ReadSet
    ts: int


@dataclass(frozen=True, slots=True)
class MutationRun:
    value: Any
    log_lines: tuple[str, ...]
    commit_ts: int


@dataclass(frozen=True, slots=True)
class ActionRun:
    value: Any
    log_lines: tuple[str, ...]


class SyncBackend(Protocol):
    """Runs functions for sync sessions. Values and args are convex-JSON. Calls may block."""

    def latest_ts(self) -> int: ...

    def run_query(
        self,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        ts: int,
        journal: str | None,
    ) -> QueryRun | QueryFailed: ...

    def run_mutation(
        self,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        request_key: str | None = None,
        first_send: bool = False,
    ) -> MutationRun:
        """Run and commit; with `request_key`, at most once per key even across restarts.

        `first_send`: the caller knows the key cannot have been committed before.
        """
        ...

    def run_action(
        self, path: str, args: dict[str, Any], identity: Identity | None
    ) -> ActionRun: ...
