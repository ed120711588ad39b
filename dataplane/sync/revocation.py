"""Revoked keys reach live sync sessions, not only new requests.

A session authenticated with an admin/deploy key keeps that key's rights for as long as its
socket lives. Every `CHECK_INTERVAL_S` this watch asks the deployment's authenticator whether
the key behind each admin session was revoked (it re-reads the control plane's revocation
file when the file changed; each process of a deployment runs its own watch over its own
sessions). A revoked session is told with Convex's AuthError and its socket is closed: from
the moment the file lands, a session loses the key's rights within CHECK_INTERVAL_S plus
the time to send one frame. Queries, mutations and actions it sent before are not undone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

CHECK_INTERVAL_S = 1.0


class KeyChecker(Protocol):
    def key_revoked(self, key_id: str) -> bool: ...


#: What a session runs when its key is revoked (the consumer closes its socket).
OnRevoked = Callable[[], Awaitable[None]]


class RevocationWatch:
    """One asyncio task per process, over the SyncService's live sessions."""

    def __init__(
        self,
        checker: KeyChecker,
        sessions: Callable[[], Iterable[Any]],
        interval: float = CHECK_INTERVAL_S,
    ) -> None:
        self.checker = checker
        self.sessions = sessions
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start on the running loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        """Stop the task (from any thread)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            with contextlib.suppress(RuntimeError):  # its loop is already closed
                task.get_loop().call_soon_threadsafe(task.cancel)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("revocation sweep failed")

    async def sweep(self) -> int:
        """Revoke every session whose admin key is revoked now; returns how many."""
        revoked: dict[str, bool] = {}
        victims: list[OnRevoked] = []
        for session in list(self.sessions()):
            identity = session.identity
            key_id = None if identity is None else identity.key_id
            on_revoked: OnRevoked | None = getattr(session, "on_revoked", None)
            if key_id is None or on_revoked is None:
                continue
            if key_id not in revoked:
                revoked[key_id] = self.checker.key_revoked(key_id)
            if revoked[key_id]:
                victims.append(on_revoked)
        for on_revoked in victims:
            with contextlib.suppress(Exception):
                await on_revoked()
        if victims:
            log.info("closed sync sessions of revoked keys", sessions=len(victims))
        return len(victims)
