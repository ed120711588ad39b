"""The code a deployment is serving right now, and swapping it in at finish_push or start-up.

The active app lives in the database (see store.py); `ActiveCode` keeps the built bundle and
its analysis in memory for one deployment, hands them to the runner and the search indexes,
and rebuilds them from the database when a process starts (or after env vars change).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from ..runtime.components import MODULE_ROOT, scoped_analysis
from . import component_env, store
from .analysis import analyze, module_sources
from .envvars import builtin_env
from .node_packages import NodePackages, parse_dependencies
from .restore_cache import RestoreCache

if TYPE_CHECKING:
    from ..files import FileService
    from ..runtime import Bundle, FunctionRunner
    from ..runtime.analysis import AppAnalysis
    from ..search import SearchService
    from ..transactions import Database

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ActiveApp:
    """The deployed bundle, what it exports, and the config/env it runs with."""

    bundle: Bundle
    app: AppAnalysis
    config: store.DeployedConfig
    env: dict[str, str]


class ActiveCode:
    """One deployment's live code: which push is active in this process, and activating it."""

    def __init__(
        self,
        db: Database,
        runner: FunctionRunner,
        search: SearchService,
        files: FileService,
        *,
        name: str,
        public_url: str,
        site_url: str,
        packages: NodePackages,
        cache_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.packages = packages
        self.cache = RestoreCache(cache_dir)  # what restore() built last, for the next start
        self.db = db
        self.runner = runner
        self.search = search
        self.files = files
        self.builtin_env = builtin_env(public_url, site_url)
        self._active: ActiveApp | None = None
        self._loaded = False
        self._lock = threading.RLock()

    def function_env(self, env: dict[str, str]) -> dict[str, str]:
        """User env vars plus the built-in CONVEX_CLOUD_URL / CONVEX_SITE_URL."""
        return {**env, **self.builtin_env}

    def activate(
        self, bundle: Bundle, app: AppAnalysis, config: store.DeployedConfig, env: dict[str, str]
    ) -> ActiveApp:
        """Make this code live in this process (the database already says it is the active push)."""
        if any(m.startswith(MODULE_ROOT) for m in bundle.entry_modules):
            # Component functions are internal; the runner sees the merged, namespaced schema.
            app = scoped_analysis(app, config.schema)
        active = ActiveApp(bundle, app, config, env)
        with self._lock:
            # Vector/text indexes follow the schema (kept ones are untouched, new ones built).
            self.search.set_schema(config.schema)
            self.files.ensure_table()  # so db.system.query("_storage") works before any upload
            components = component_env.resolve(config.component_env, env, self.builtin_env)
            self.runner.activate(
                bundle, app, self.function_env(env), components, config.http_routing or None
            )
            self._active, self._loaded = active, True
        log.info("activated code", deployment=self.name, push=config.push_id)
        return active

    def current(self) -> ActiveApp | None:
        """The active app, restored from the database on first use in this process."""
        with self._lock:
            if self._loaded:
                return self._active
            return self.restore()

    def restore(self) -> ActiveApp | None:
        """Rebuild and activate the deployed code from the database (None before the first push)."""
        with self._lock:
            if store.CONFIG_TABLE not in self.db.table_names():
                self._loaded = True
                return None
            txn = self.db.begin()
            config = store.load_config(txn)
            if config is None:
                self._loaded = True
                return None
            modules = store.load_modules(txn)
            env = store.load_env(txn)
            # A new process (or replica) with an empty cache installs the packages again.
            deps = parse_dependencies(config.node_dependencies)
            packages = self.packages.ensure(deps)
            function_env = self.function_env(env)
            sources = module_sources(modules)
            cached = self.cache.load(sources, function_env, packages)
            if cached is not None:
                bundle, app = cached
            else:
                bundle, app, _ = analyze(modules, function_env, self.runner.limits, packages)
                self.cache.save(sources, function_env, bundle, app)
            return self.activate(bundle, app, config, env)

    def env_changed(self, env: dict[str, str]) -> None:
        """Re-activate the current code with new env vars (functions read process.env)."""
        with self._lock:
            current = self._active
            if current is not None:
                self.activate(current.bundle, current.app, current.config, env)

    def auth_providers(self) -> list[dict[str, Any]]:
        """The auth providers of the active push (empty before any push or without auth.config)."""
        if store.CONFIG_TABLE not in self.db.table_names():
            return []
        config = store.load_config(self.db.begin())
        return [] if config is None else list(config.auth_info)

    def schema(self) -> dict[str, Any] | None:
        """The active push's exported schema (None before a push or without schema.ts)."""
        active = self.current()
        return None if active is None else active.config.schema
