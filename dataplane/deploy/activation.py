"""The code a deployment is serving right now, and swapping it in at finish_push or start-up.

The active app lives in the database (see store.py); this module keeps the built bundle and its
analysis in memory per Deployment, hands them to the runner, and rebuilds them from the
database when a process starts (or after env vars change).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from . import store
from .analysis import analyze
from .envvars import builtin_env
from .logs import log_stream

if TYPE_CHECKING:
    from ..deployment import Deployment
    from ..runtime import Bundle
    from ..runtime.analysis import AppAnalysis

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ActiveApp:
    """The deployed bundle, what it exports, and the config/env it runs with."""

    bundle: Bundle
    app: AppAnalysis
    config: store.DeployedConfig
    env: dict[str, str]


_active: weakref.WeakKeyDictionary[Deployment, ActiveApp | None] = weakref.WeakKeyDictionary()
_lock = threading.RLock()


def site_url(deployment: Deployment) -> str:
    """Where HTTP actions are served: `<deployment url>/http` (the self-hosted layout)."""
    return deployment.config.public_url.rstrip("/") + "/http"


def function_env(deployment: Deployment, env: dict[str, str]) -> dict[str, str]:
    """User env vars plus the built-in CONVEX_CLOUD_URL / CONVEX_SITE_URL."""
    return {**env, **builtin_env(deployment.config.public_url, site_url(deployment))}


def activate(
    deployment: Deployment,
    bundle: Bundle,
    app: AppAnalysis,
    config: store.DeployedConfig,
    env: dict[str, str],
) -> ActiveApp:
    """Make this code live in this process (the database already says it is the active push)."""
    active = ActiveApp(bundle, app, config, env)
    with _lock:
        log_stream(deployment)  # start collecting function logs before any call runs
        # Vector/text indexes follow the schema (kept ones are untouched, new ones built).
        deployment.search.set_schema(config.schema)
        deployment.files  # noqa: B018 - creates `_storage`, so db.system.query("_storage") works
        deployment.runner.activate(bundle, app, function_env(deployment, env))
        _active[deployment] = active
    log.info("activated code", deployment=deployment.config.name, push=config.push_id)
    return active


def active_app(deployment: Deployment) -> ActiveApp | None:
    """The active app, restored from the database on first use in this process."""
    with _lock:
        if deployment in _active:
            return _active[deployment]
        return restore(deployment)


def restore(deployment: Deployment) -> ActiveApp | None:
    """Rebuild and activate the deployed code from the database (None before the first push)."""
    with _lock:
        db = deployment.db
        if store.CONFIG_TABLE not in db.table_names():
            _active[deployment] = None
            return None
        txn = db.begin()
        config = store.load_config(txn)
        if config is None:
            _active[deployment] = None
            return None
        modules = store.load_modules(txn)
        env = store.load_env(txn)
        bundle, app, _ = analyze(modules, function_env(deployment, env))
        return activate(deployment, bundle, app, config, env)


def env_changed(deployment: Deployment, env: dict[str, str]) -> None:
    """Re-activate the current code with new env vars (functions read process.env)."""
    with _lock:
        current = _active.get(deployment)
        if current is not None:
            activate(deployment, current.bundle, current.app, current.config, env)
