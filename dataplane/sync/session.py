"""One socket's sync state: query set, identity, versions, and the Transitions it is owed.

Pure protocol logic over the SubscriptionManager: the transport is an async `send` callable,
so the state machine is testable without a socket. Version chaining: each Transition starts
at exactly the previous end version; the end ts is the manager's processed ts, at which every
subscription result is valid, so one Transition is one consistent snapshot.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..auth import Identity
from ..runtime.components import scope_call
from .protocol import (
    AddQuery,
    ModifyQuerySet,
    ProtocolError,
    RemoveQuery,
    StateVersion,
    query_removed,
    transition,
    transition_chunks,
)
from .subscriptions import Subscription, SubscriptionManager

Send = Callable[[bytes], Awaitable[None]]
SendMany = Callable[[list[bytes]], Awaitable[None]]
MAX_QUERIES = 10_000
CHUNK_THRESHOLD = 5 * 1024 * 1024


@dataclass(slots=True)
class _Query:
    sub: Subscription
    sent_version: int | None = None  # the subscription version this client has


class SyncSession:
    """State of one WebSocket connection; the manager calls `after_step` to flush it."""

    def __init__(
        self,
        manager: SubscriptionManager,
        send: Send,
        *,
        chunk_threshold: int = CHUNK_THRESHOLD,
        supports_chunks: bool = True,
        send_many: SendMany | None = None,
    ) -> None:
        self.manager = manager
        self._send = send
        self._send_many = send_many
        self._held: list[bytes] = []  # sent just before the next Transition
        self.session_id = ""
        self.identity: Identity | None = None
        self.query_set_version = 0
        self.identity_version = 0
        self.sent = StateVersion()
        self.queries: dict[int, _Query] = {}
        self._removed: list[int] = []
        self._min_ts = 0
        self._force = False
        self._closed = False
        self.clock_skew: int | None = None
        # Set by the socket: what to do when the admin key behind `identity` is revoked.
        self.on_revoked: Callable[[], Awaitable[None]] | None = None
        self.chunk_threshold = chunk_threshold
        self.supports_chunks = supports_chunks
        self.last_send = time.monotonic()

    # ----- client requests -----------------------------------------------------------

    def modify_query_set(self, msg: ModifyQuerySet) -> None:
        if msg.base_version != self.query_set_version:
            raise ProtocolError(
                f"BaseVersionMismatch: ModifyQuerySet baseVersion {msg.base_version} does not "
                f"match the server's query set version {self.query_set_version}"
            )
        if msg.new_version <= msg.base_version:
            raise ProtocolError("ModifyQuerySet newVersion must be greater than baseVersion")
        for mod in msg.modifications:
            if isinstance(mod, AddQuery):
                self._add(mod)
            elif isinstance(mod, RemoveQuery):
                self._remove(mod.query_id)
        self.query_set_version = msg.new_version
        self._force = True
        self.manager.request_flush(self)

    def _add(self, mod: AddQuery) -> None:
        if mod.query_id in self.queries:
            raise ProtocolError(f"Query id {mod.query_id} is already in the query set")
        if len(self.queries) >= MAX_QUERIES:
            raise ProtocolError(f"Too many queries on one connection (limit {MAX_QUERIES})")
        path, args = scope_call(mod.udf_path, mod.args, mod.component_path)
        sub = self.manager.subscribe(self, path, args, self.identity, mod.journal)
        self.queries[mod.query_id] = _Query(sub)

    def _remove(self, query_id: int) -> None:
        query = self.queries.pop(query_id, None)
        if query is None:
            raise ProtocolError(f"Query id {query_id} is not in the query set")
        self.manager.unsubscribe(self, query.sub)
        self._removed.append(query_id)

    def set_identity(self, identity: Identity | None, base_version: int) -> None:
        """Switch identity (already validated): every query re-runs and is re-sent."""
        if base_version != self.identity_version:
            raise ProtocolError(
                f"Authenticate baseVersion {base_version} does not match the server's identity "
                f"version {self.identity_version}"
            )
        self.identity = identity
        self.identity_version += 1
        for query in self.queries.values():
            old = query.sub
            query.sub = self.manager.subscribe(self, old.path, old.args, identity, old.journal)
            query.sent_version = None
            self.manager.unsubscribe(self, old)
        self._force = True
        self.manager.request_flush(self)

    def respond_then_flush(self, payload: bytes, ts: int) -> None:
        """Queue a MutationResponse to go out with the Transition that reaches `ts`.

        The client resolves the mutation only once both arrived, so nothing is lost by
        holding the response, and both leave in one socket write."""
        self._held.append(payload)
        self.wait_for_ts(ts)

    def wait_for_ts(self, ts: int) -> None:
        """The next Transition must reach `ts` (read-your-writes after a mutation)."""
        self._min_ts = max(self._min_ts, ts)
        self._force = True
        self.manager.request_flush(self)

    def close(self) -> None:
        self._closed = True
        for query in self.queries.values():
            self.manager.unsubscribe(self, query.sub)
        self.queries.clear()

    # ----- flushing ------------------------------------------------------------------

    def build_transition(self, processed_ts: int) -> bytes | None:
        """The Transition owed at processed_ts, or None if nothing is due or results pend."""
        if self._closed or processed_ts < self._min_ts:
            return None
        if any(q.sub.result is None for q in self.queries.values()):
            return None
        mods: list[dict[str, Any]] = [query_removed(qid) for qid in self._removed]
        for qid, query in self.queries.items():
            if query.sent_version != query.sub.version:
                assert query.sub.result is not None
                mods.append(query.sub.result.modification(qid))
                query.sent_version = query.sub.version
        end = StateVersion(
            self.query_set_version, self.identity_version, max(processed_ts, self.sent.ts)
        )
        if not mods and not self._force and end == self.sent:
            return None
        payload = transition(self.sent, end, mods, time.time_ns(), self.clock_skew)
        self._removed = []
        self._force = False
        self.sent = end
        return payload

    async def after_step(self, processed_ts: int) -> None:
        payload = self.build_transition(processed_ts)
        if payload is None:
            if self._force and not self._closed:
                self.manager.defer_flush(self)  # owed, but results or the ts are not there yet
            return
        held, self._held = self._held, []
        if self.supports_chunks and len(payload) > self.chunk_threshold:
            for frame in held:
                await self.send(frame)
            for chunk in transition_chunks(payload, uuid.uuid4().hex, self.chunk_threshold):
                await self.send(chunk)
        elif held and self._send_many is not None and not self._closed:
            self.last_send = time.monotonic()
            await self._send_many([*held, payload])
        else:
            for frame in held:
                await self.send(frame)
            await self.send(payload)

    async def send(self, payload: bytes) -> None:
        if self._closed:
            return
        self.last_send = time.monotonic()
        await self._send(payload)
