"""Every setting of a data-plane process, read from the environment once and validated.

`DeploymentConfig.from_env()` is the only place that reads `STRATA_DP_*` variables; the
composition root (app.py) hands the parsed values to each subsystem. A bad value fails at
start-up with a `ConfigError` naming the variable, never later inside a request.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .runtime.limits import RuntimeLimits
from .transactions.limits import GC_INTERVAL_S, RETENTION_NS

ROLES = ("committer", "auto", "replica")


class ConfigError(ValueError):
    """A setting has a value the data plane cannot use; the message names the variable."""


class _Env:
    """Typed reads of one environment mapping, each failing with the variable's name."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name, "").strip() or default

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if not math.isfinite(value) or value <= minimum:
            raise ConfigError(f"{name} must be greater than {minimum:g}, got {raw!r}")
        return value

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be 1/true or 0/false, got {raw!r}")

    def url(
        self, name: str, default: str = "", schemes: tuple[str, ...] = ("http", "https")
    ) -> str:
        raw = self.text(name, default)
        if raw and not raw.startswith(tuple(f"{s}://" for s in schemes)):
            allowed = " or ".join(f"{s}://" for s in schemes)
            raise ConfigError(f"{name} must start with {allowed}, got {raw!r}")
        return raw


@dataclass(frozen=True)
class DeploymentConfig:
    """Everything a data-plane process needs to know about the deployment it serves."""

    name: str
    data_dir: Path
    database_url: str
    instance_secret: str
    public_url: str
    redis_url: str = ""
    # committer (default: own the store or fail), auto (committer, else a read replica that
    # takes over when the committer dies) or replica (start as one); the latter need Postgres
    # or MySQL (a SQLite store has exactly one serving process).
    role: str = "committer"
    internal_url: str = ""  # where replicas reach this process when it is the committer
    host: str = "127.0.0.1"
    port: int = 3210
    limits: RuntimeLimits = field(default_factory=RuntimeLimits)
    blob_store: str = ""  # "" / "local" = <data_dir>/files, or s3://bucket/prefix
    s3_endpoint_url: str = ""
    usage_url: str = ""  # where signed usage reports go (the control plane); "" = none
    usage_interval: float = 30.0
    http_threads: int = 64  # HTTP requests' blocking work (database, V8)
    sync_threads: int = 32  # sync-socket mutations, actions and auth checks
    celery_broker: str = ""  # redis://... or filesystem://; "" = in-process delivery
    scheduler_workers: int = 4
    revocation_dir: Path | None = None  # where the revoked-keys file lives (default data_dir)
    # File uploads and snapshot imports stream to disk; bodies over this get 413.
    max_upload_bytes: int = 1 << 30
    # Document history older than this (behind the newest commit) is garbage-collected every
    # gc_interval seconds; streaming export snapshots and delta cursors must be newer.
    history_retention_s: float = RETENTION_NS / 1e9
    gc_interval_s: float = GC_INTERVAL_S
    # External packages of "use node" actions (convex.json node.externalPackages) are
    # installed with this npm, each install bounded by npm_install_seconds.
    npm_binary: str = "npm"
    npm_install_seconds: float = 600.0

    @property
    def node_packages_dir(self) -> Path:
        """Where installed external node packages are cached, one dir per dependency set."""
        return self.data_dir / "node_packages"

    @property
    def site_url(self) -> str:
        """Where HTTP actions are served: `<deployment url>/http` (the self-hosted layout)."""
        return self.public_url.rstrip("/") + "/http"

    @property
    def revocation_path(self) -> Path:
        return self.revocation_dir or self.data_dir

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DeploymentConfig:
        """Read and validate every STRATA_DP_* variable (defaults: a local SQLite deployment)."""
        env = _Env(os.environ if environ is None else environ)
        data_dir = Path(env.text("STRATA_DP_DATA_DIR", "var/deployments/local")).resolve()
        port = env.integer("STRATA_DP_PORT", 3210)
        if port > 65535:
            raise ConfigError(f"STRATA_DP_PORT must be a TCP port, got {port}")
        role = env.text("STRATA_DP_ROLE", "committer")
        if role not in ROLES:
            raise ConfigError(f"STRATA_DP_ROLE must be one of {', '.join(ROLES)}, got {role!r}")
        database_url = env.text("STRATA_DP_DATABASE_URL") or f"sqlite:///{data_dir / 'db.sqlite3'}"
        if not database_url.startswith(("sqlite://", "postgres://", "postgresql://", "mysql://")):
            raise ConfigError(
                "STRATA_DP_DATABASE_URL must be sqlite:///path, postgresql://... or "
                "mysql://..., got "
                f"{database_url.split('@')[-1]!r}"
            )
        blob_store = env.text("STRATA_DP_BLOB_STORE")
        if blob_store not in ("", "local") and not blob_store.startswith("s3://"):
            raise ConfigError(
                f"Unknown STRATA_DP_BLOB_STORE {blob_store!r}: use 'local' or 's3://bucket'"
            )
        if blob_store.startswith("s3://") and not blob_store[5:].partition("/")[0]:
            raise ConfigError("STRATA_DP_BLOB_STORE=s3://... needs a bucket name")
        base = RuntimeLimits()
        limits = RuntimeLimits(
            query_seconds=env.number("STRATA_DP_QUERY_SECONDS", base.query_seconds),
            mutation_seconds=env.number("STRATA_DP_MUTATION_SECONDS", base.mutation_seconds),
            action_seconds=env.number("STRATA_DP_ACTION_SECONDS", base.action_seconds),
            heap_bytes=env.integer("STRATA_DP_HEAP_BYTES", base.heap_bytes, minimum=8 << 20),
            pool_size=env.integer("STRATA_DP_ISOLATE_POOL", base.pool_size),
            fetch_allow_private=env.flag("STRATA_DP_FETCH_ALLOW_PRIVATE", False),
            node_binary=env.text("STRATA_DP_NODE_BINARY", base.node_binary),
            node_heap_mb=env.integer("STRATA_DP_NODE_HEAP_MB", base.node_heap_mb, minimum=16),
        )
        revocation_dir = env.text("STRATA_DP_REVOCATION_DIR")
        instance_secret = env.text("STRATA_DP_INSTANCE_SECRET")
        usage_url = env.url("STRATA_DP_USAGE_URL")
        if usage_url and not instance_secret:
            raise ConfigError("usage reports are signed: STRATA_DP_INSTANCE_SECRET must be set")
        return cls(
            name=env.text("STRATA_DP_NAME", "local-deployment"),
            data_dir=data_dir,
            database_url=database_url,
            instance_secret=instance_secret,
            public_url=env.url("STRATA_DP_PUBLIC_URL", f"http://127.0.0.1:{port}"),
            redis_url=env.url("STRATA_DP_REDIS_URL", schemes=("redis", "rediss", "unix")),
            role=role,
            internal_url=env.url("STRATA_DP_INTERNAL_URL", f"http://127.0.0.1:{port}"),
            host=env.text("STRATA_DP_HOST", "127.0.0.1"),
            port=port,
            limits=limits,
            blob_store=blob_store,
            s3_endpoint_url=env.url("STRATA_DP_S3_ENDPOINT_URL"),
            usage_url=usage_url,
            usage_interval=env.number("STRATA_DP_USAGE_INTERVAL", 30.0),
            http_threads=env.integer("STRATA_DP_HTTP_THREADS", 64),
            sync_threads=env.integer("STRATA_DP_SYNC_THREADS", 32),
            celery_broker=env.url(
                "STRATA_DP_CELERY_BROKER", schemes=("redis", "rediss", "filesystem", "memory")
            ),
            scheduler_workers=env.integer("STRATA_DP_SCHEDULER_WORKERS", 4),
            revocation_dir=Path(revocation_dir) if revocation_dir else None,
            max_upload_bytes=env.integer("STRATA_DP_MAX_UPLOAD_BYTES", 1 << 30),
            history_retention_s=env.number(
                "STRATA_DP_HISTORY_RETENTION_S", RETENTION_NS / 1e9, minimum=0.5
            ),
            gc_interval_s=env.number("STRATA_DP_GC_INTERVAL_S", GC_INTERVAL_S),
            npm_binary=env.text("STRATA_DP_NPM_BINARY", "npm"),
            npm_install_seconds=env.number("STRATA_DP_NPM_INSTALL_SECONDS", 600.0),
        )
