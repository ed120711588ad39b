"""The per-process sync service: one subscription manager and dedup table per deployment.

Built on first use from the current deployment (its Database and FunctionRunner); tests and
benchmarks may install one with another backend.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..transactions import CommitRecord, Database
from .backend import SyncBackend
from .bus import CommitBus
from .dedup import MutationDedup
from .subscriptions import SubscriptionManager


@dataclass
class SyncService:
    """Everything the sync consumers of one deployment share in this process."""

    db: Database
    backend: SyncBackend
    manager: SubscriptionManager = field(init=False)
    dedup: MutationDedup = field(default_factory=MutationDedup)
    sessions: set[Any] = field(default_factory=set)
    bus: CommitBus | None = None  # when several processes serve the deployment (Redis)
    # Mutations, actions and auth run here, off the event loop. asyncio's default executor
    # has cpu+4 threads: fewer than the clients a deployment serves concurrently.
    functions: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=int(os.environ.get("STRATA_DP_SYNC_THREADS", "32")),
            thread_name_prefix="sync-fn",
        )
    )

    def __post_init__(self) -> None:
        self.manager = SubscriptionManager(self.db, self.backend)

    def ensure_started(self) -> None:
        """Start the manager (and commit bus) on the running loop, once."""
        self.manager.start()
        if self.bus is not None:
            self.bus.start()


_lock = threading.Lock()
_service: SyncService | None = None


def get_service() -> SyncService:
    """The installed service, or one built from the current deployment."""
    global _service
    with _lock:
        if _service is None:
            from ..deployment import current_deployment
            from .runtime_backend import RuntimeBackend

            deployment = current_deployment()
            _service = SyncService(deployment.db, RuntimeBackend(deployment))
            if deployment.config.redis_url:
                manager = _service.manager
                db = deployment.db

                def on_remote(record: CommitRecord) -> None:
                    manager.ingest_remote(record)
                    deployment.commit_announced()  # a replica reads the log right away

                def on_local(record: CommitRecord) -> None:
                    if not db.replica:  # a replica's records came from the committer
                        bus.publish(record)

                bus = CommitBus(deployment.config.redis_url, deployment.config.name, on_remote)
                db.add_commit_listener(on_local)
                _service.bus = bus
        return _service


def install_service(service: SyncService | None) -> None:
    global _service
    with _lock:
        _service = service
