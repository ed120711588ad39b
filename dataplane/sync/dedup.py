"""Mutation de-duplication by (sessionId, requestId) across reconnects.

After a reconnect the clients resend every mutation whose result they have not observed, with
the same requestId. The first execution's response is kept (and awaited if still running) so
a resent mutation never runs twice in this process. The caller's identity is part of the key,
so a replayed response only ever reaches the identity that caused it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

TTL_S = 15 * 60.0
MAX_ENTRIES = 100_000


def request_key(session_id: str, identity_key: str, request_id: int) -> str:
    """The durable dedup key (runtime/request_log): fixed-size, the identity stays opaque."""
    return hashlib.sha256(orjson.dumps([session_id, identity_key, request_id])).hexdigest()


@dataclass(frozen=True, slots=True)
class MutationOutcome:
    """What a MutationResponse carries, kept for replay."""

    success: bool
    result: Any
    ts: int | None
    log_lines: tuple[str, ...]
    error_data: Any = None


class MutationDedup:
    """(session, request) -> the outcome future; bounded by size and age."""

    def __init__(self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, int], tuple[float, asyncio.Future[Any]]] = (
            OrderedDict()
        )
        self.executions = 0

    def _evict(self, now: float) -> None:
        while self._entries:
            key, (born, future) = next(iter(self._entries.items()))
            if len(self._entries) <= self.max_entries and now - born < self.ttl_s:
                break
            if not future.done():
                break
            del self._entries[key]

    async def run(
        self,
        session_id: str,
        identity_key: str,
        request_id: int,
        execute: Callable[[], Awaitable[MutationOutcome]],
    ) -> MutationOutcome:
        """The outcome of this mutation, executing it only the first time it is seen."""
        now = time.monotonic()
        self._evict(now)
        key = (session_id, identity_key, request_id)
        entry = self._entries.get(key)
        task: asyncio.Future[Any]
        if entry is None:
            # Its own task or future, shielded below: the socket that sent it may close
            # before it finishes.
            task = asyncio.ensure_future(execute())
            self._entries[key] = (now, task)
            self.executions += 1
            task.add_done_callback(lambda t: self._forget_failed(key, t))
        else:
            task = entry[1]
        outcome: MutationOutcome = await asyncio.shield(task)
        return outcome

    def _forget_failed(self, key: tuple[str, str, int], task: asyncio.Future[Any]) -> None:
        if task.cancelled() or task.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry[1] is task:
                del self._entries[key]
