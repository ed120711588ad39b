"""The process-wide deployment context: configuration plus each subsystem, built on first use."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from .config import DeploymentConfig

if TYPE_CHECKING:
    from .files import FileService
    from .runtime import FunctionRunner
    from .scheduler.service import Scheduler
    from .search import SearchService
    from .transactions import Database


class Deployment:
    """One deployment served by this process. Subsystems hang off it so tests can build several."""

    def __init__(self, config: DeploymentConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)

    @cached_property
    def db(self) -> Database:
        from .transactions import open_database

        return open_database(self.config.database_url)

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
