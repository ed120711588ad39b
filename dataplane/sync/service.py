"""The sync service of one deployment: one subscription manager and dedup table per process.

Built by the deployment's composition root (dataplane/app.py) from its Database, a
SyncBackend over its runner, its authenticator and, when several processes serve the
deployment, a Redis commit bus. Sync consumers find it in their ASGI scope (`SCOPE_KEY`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..transactions import Database
from .backend import SyncBackend
from .dedup import MutationDedup
from .revocation import RevocationWatch
from .subscriptions import SubscriptionManager

if TYPE_CHECKING:
    from ..auth import Authenticator
    from .bus import CommitBus  # redis loads only when several processes share a deployment

#: Where the ASGI application puts the deployment's SyncService for its consumers.
SCOPE_KEY = "strata.sync"


@dataclass
class SyncService:
    """Everything the sync consumers of one deployment share in this process."""

    db: Database
    backend: SyncBackend
    auth: Authenticator | None = None  # None: only anonymous sessions (tests)
    threads: int = 32
    manager: SubscriptionManager = field(init=False)
    dedup: MutationDedup = field(default_factory=MutationDedup)
    sessions: set[Any] = field(default_factory=set)
    bus: CommitBus | None = None  # when several processes serve the deployment (Redis)
    # Mutations, actions and auth run here, off the event loop. asyncio's default executor
    # has cpu+4 threads: fewer than the clients a deployment serves concurrently.
    functions: ThreadPoolExecutor = field(init=False)
    # Closes the sessions of admin/deploy keys once they are revoked.
    revocations: RevocationWatch | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.manager = SubscriptionManager(self.db, self.backend)
        self.functions = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="sync-fn")
        if self.auth is not None:
            self.revocations = RevocationWatch(self.auth, lambda: self.sessions)

    def ensure_started(self) -> None:
        """Start the manager (and commit bus) on the running loop, once."""
        self.manager.start()
        if self.bus is not None:
            self.bus.start()
        if self.revocations is not None:
            self.revocations.start()

    def close(self) -> None:
        if self.revocations is not None:
            self.revocations.stop()
        self.functions.shutdown(wait=False, cancel_futures=True)
