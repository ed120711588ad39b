"""Keep every process's active code in step with pushes and env changes made on another one."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import structlog

from ..transactions import CommitRecord

if TYPE_CHECKING:
    from ..deploy.activation import ActiveCode
    from ..transactions import Database

log = structlog.get_logger(__name__)


class CodeFollower:
    """Commit listener: a commit to the deploy config or env tables re-activates, off-thread.

    Off the commit thread because the committer calls listeners under its lock, and only when
    the stored push or env differs from what this process runs (its own pushes are skipped).
    """

    def __init__(self, db: Database, code: ActiveCode) -> None:
        self.db = db
        self.code = code
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="strata-code-sync", daemon=True)
        self._thread.start()

    def on_commit(self, record: CommitRecord) -> None:
        from ..deploy import store

        if not record.tables.isdisjoint((store.CONFIG_TABLE, store.ENV_TABLE)):
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.sync()
            except Exception:
                log.exception("re-activating pushed code failed")

    def sync(self) -> None:
        from ..deploy import store

        db = self.db
        txn = db.begin()
        config = store.load_config(txn)
        if config is None:
            return
        env = store.load_env(txn)
        current = self.code.current()
        if current is None or current.config.push_id != config.push_id or current.env != env:
            self.code.restore()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
