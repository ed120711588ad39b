"""The process-wide deployment context: configuration plus each subsystem, built on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from .config import DeploymentConfig

if TYPE_CHECKING:
    from .files import FileService
    from .replication.codesync import CodeFollower
    from .replication.follower import Follower
    from .runtime import FunctionRunner
    from .scheduler.service import Scheduler
    from .search import SearchService
    from .transactions import Database


class Deployment:
    """One deployment served by this process. Subsystems hang off it so tests can build several."""

    def __init__(self, config: DeploymentConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self._committer_tasks: list[Callable[[], None]] = []
        self._follower: Follower | None = None
        self._code_follower: CodeFollower | None = None

    @cached_property
    def db(self) -> Database:
        from .transactions import open_database

        db = open_database(self.config.database_url, role=self.config.role)
        if self.config.role != "committer":
            self._join_replication(db)
        return db

    def _join_replication(self, db: Database) -> None:
        """Announce this process as committer, or follow the committer as a read replica."""
        from .replication.codesync import CodeFollower

        # Pushes and env changes may land through any process: all of them re-activate.
        self._code_follower = CodeFollower(self)
        db.add_commit_listener(self._code_follower.on_commit)
        if not db.replica:
            db.set_committer_url(self.config.internal_url)
        from tenants.keys import mint_key

        from .replication.follower import Follower
        from .replication.forwarder import HttpForwarder

        db.forwarder = HttpForwarder(db, mint_key(self.config.name, self.config.instance_secret))
        self._follower = Follower(db, lambda: self._promoted(db))
        self._follower.start()

    def _promoted(self, db: Database) -> None:
        db.set_committer_url(self.config.internal_url)
        tasks, self._committer_tasks = self._committer_tasks, []
        for task in tasks:
            task()

    def when_committer(self, task: Callable[[], None]) -> None:
        """Run task now if this process commits, else once it takes over (e.g. the scheduler)."""
        if self.db.replica:
            self._committer_tasks.append(task)
        else:
            task()

    def commit_announced(self) -> None:
        """Another process announced a commit: a replica reads the log right away."""
        if self._follower is not None:
            self._follower.wake()

    @cached_property
    def runner(self) -> FunctionRunner:
        """Runs this deployment's functions; empty until the deploy flow activates code."""
        from .runtime import FunctionRunner

        return FunctionRunner(self)

    @cached_property
    def scheduler(self) -> Scheduler:
        """Delivers scheduled functions and crons once `.start()`ed (the server does that)."""
        from .scheduler.service import Scheduler

        return Scheduler.for_deployment(self)

    @cached_property
    def files(self) -> FileService:
        """ctx.storage and the upload/serve endpoints: `_storage` rows plus a blob store."""
        from .files import files_for

        return files_for(self)

    @cached_property
    def search(self) -> SearchService:
        """Vector and text indexes; their definitions come from the deployed schema."""
        from .search import search_for

        return search_for(self)

    def close(self) -> None:
        if "scheduler" in self.__dict__:
            self.scheduler.stop()
        if "runner" in self.__dict__:
            self.runner.close()
        if "search" in self.__dict__:
            self.search.close()
        if "files" in self.__dict__:
            self.files.close()
        if self._follower is not None:
            self._follower.stop()
        if self._code_follower is not None:
            self._code_follower.stop()
        if "db" in self.__dict__:
            self.db.close()


_lock = threading.Lock()
_current: Deployment | None = None


def current_deployment() -> Deployment:
    """The deployment this process serves, configured from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Deployment(DeploymentConfig.from_env())
        return _current


def set_current_deployment(deployment: Deployment | None) -> None:
    """Install a deployment explicitly (server start-up and tests)."""
    global _current
    with _lock:
        _current = deployment
