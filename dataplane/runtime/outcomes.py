"""What running a function produces: values, log lines, failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from ..transactions import ReadSet
from ..values import from_json

Level = Literal["LOG", "INFO", "WARN", "ERROR", "DEBUG"]


@dataclass(frozen=True)
class LogLine:
    """One console line; `formatted()` is the "[LOG] 'msg' 1" string Convex clients print."""

    level: str
    message: str
    timestamp: float  # ms since the epoch

    def formatted(self) -> str:
        return f"[{self.level}] {self.message}"

    @classmethod
    def from_js(cls, raw: dict[str, Any]) -> LogLine:
        return cls(
            level=str(raw.get("level", "LOG")),
            message=str(raw.get("message", "")),
            timestamp=float(raw.get("timestamp") or 0.0),
        )


class FunctionError(Exception):
    """A function failed. `message` is what clients see; `data` is ConvexError data (a Python
    Convex value) or None; `logs` are the lines printed before the failure."""

    def __init__(
        self,
        message: str,
        data: Any = None,
        logs: list[LogLine] | None = None,
        *,
        has_data: bool = False,
        js_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.js_message = message if js_message is None else js_message
        self.data = data
        self.has_data = has_data or data is not None
        self.logs = list(logs or [])
        # The failed execution's request id, when known (clients see it in the message).
        self.request_id: str | None = None
        # Set when a query's own code threw: what it read (at read_ts) decides when it could
        # succeed, so subscriptions re-run it only when that changes.
        self.read_set: ReadSet | None = None
        self.read_ts: int | None = None


class _HasValue:
    """`value_json` is the convex-JSON result (what the wire carries); `value` decodes it to
    Python values on first use, so transports that only forward JSON never pay for it."""

    value_json: Any

    @cached_property
    def value(self) -> Any:
        return from_json(self.value_json)


@dataclass(frozen=True)
class QueryOutcome(_HasValue):
    value_json: Any
    logs: list[LogLine]
    read_set: ReadSet
    ts: int
    journal: str | None = None  # where its paginate() ended (see runtime/journal.py)


@dataclass(frozen=True)
class MutationOutcome(_HasValue):
    value_json: Any
    logs: list[LogLine]
    commit_ts: int


@dataclass(frozen=True)
class ActionOutcome(_HasValue):
    value_json: Any
    logs: list[LogLine]


@dataclass(frozen=True)
class HttpActionResponse:
    """An HTTP action's response; `headers` keeps repeated names as separate pairs."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    logs: list[LogLine] = field(default_factory=list)
    status_text: str = ""


@dataclass(frozen=True)
class FunctionLog:
    """One finished execution, as fed to the deployment's log listeners."""

    path: str
    kind: str
    lines: list[LogLine]
    success: bool
    error: str | None
    started_at: float  # ms since the epoch
    duration_ms: float
    request_id: str
    db_bytes_read: int = 0  # the transaction's totals when this call owns it (usage metering)
    db_bytes_written: int = 0
