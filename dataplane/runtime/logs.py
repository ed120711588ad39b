"""The deployment's function log stream behind `npx convex logs` / `dev --tail-logs`.

Every finished function call becomes one FunctionExecution entry (Convex's shape) in a bounded
in-memory ring; readers long-poll with a cursor (the sequence number of the last entry seen).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .components import instance_of, module_prefix

if TYPE_CHECKING:
    from .outcomes import FunctionLog, LogLine

CAPACITY = 10_000
LEVELS = {"LOG", "DEBUG", "INFO", "WARN", "ERROR"}
UDF_TYPES = {
    "query": "Query",
    "mutation": "Mutation",
    "action": "Action",
    "httpAction": "HttpAction",
    "http": "HttpAction",
}


def log_line_json(line: LogLine) -> dict[str, Any]:
    """A console line as the CLI's StructuredLogLine."""
    return {
        "messages": [line.message],
        "level": line.level if line.level in LEVELS else "LOG",
        "timestamp": line.timestamp,
        "isTruncated": False,
    }


class FunctionLogStream:
    """A ring of recent executions with a monotonically increasing cursor."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._entries: deque[tuple[int, FunctionLog]] = deque(maxlen=capacity)
        self._seq = 0
        self._cond = threading.Condition()
        self._readers = 0  # long polls waiting now: only they need waking (a hot path)

    def on_function_log(self, log: FunctionLog) -> None:
        """Runner log listener: keep the execution; it is formatted only when read."""
        with self._cond:
            self._seq += 1
            self._entries.append((self._seq, log))
            if self._readers:
                self._cond.notify_all()

    @staticmethod
    def _entry(log: FunctionLog) -> dict[str, Any]:
        """One FunctionExecution entry as the CLI reads it (a component's function is named
        as in its component, which `componentPath` names; null for the app's)."""
        component = instance_of(log.path)
        return {
            "kind": "Completion",
            "udfType": UDF_TYPES.get(log.kind, "Action"),
            "componentPath": component or None,
            "identifier": log.path.removeprefix(module_prefix(component)),
            "logLines": [log_line_json(line) for line in log.lines],
            "timestamp": log.started_at / 1000,
            "executionTime": log.duration_ms / 1000,
            "error": None if log.success else (log.error or "Error"),
            "requestId": log.request_id,
            "executionId": log.request_id,
            "caller": "",
            "environment": "isolate",
            "usageStats": None,
        }

    def head(self) -> int:
        return self._seq

    def since(self, cursor: int, timeout: float) -> tuple[list[dict[str, Any]], int]:
        """Entries after `cursor`, waiting up to `timeout` s for one; a cursor from the future
        (the server restarted) restarts from the oldest entry kept."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if cursor > self._seq:
                cursor = 0
            while self._seq <= cursor:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._readers += 1
                try:
                    self._cond.wait(left)
                finally:
                    self._readers -= 1
            logs = [log for seq, log in self._entries if seq > cursor]
            seq = self._seq
        return [self._entry(log) for log in logs], seq
