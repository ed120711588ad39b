"""DeploymentApp: the composition root of one deployment.

It builds every worker of the deployment from its configuration and hands each the
collaborators it needs (storage -> database -> files, search -> runner -> live code, system
functions, auth, scheduler, push flow, export jobs, sync service), then owns their start and
stop. Nothing below it looks a service up: HTTP views and sync consumers get the app (or its
sync service) from their ASGI scope, so one process can serve several deployments.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

from contract.keys import mint_key

from .activity import Activity
from .auth import FETCH_TIMEOUT_S, Authenticator, JwksCache, fetch_json_via
from .config import DeploymentConfig
from .dashboard import DashboardServices, SystemFunctions
from .deploy.activation import ActiveCode
from .deploy.node_packages import NodePackages
from .deploy.push import PushManager
from .exports.jobs import Jobs
from .exports.streaming import StreamingExport
from .files import BlobStore, FileService, LocalBlobStore, S3BlobStore
from .own_site import OwnSite
from .replication.codesync import CodeFollower
from .replication.follower import Follower
from .replication.forwarder import HttpForwarder
from .runtime import FunctionRunner, egress
from .runtime.jwt_signing import JwtSigner
from .runtime.logs import FunctionLogStream
from .runtime.metrics import FunctionMetrics
from .runtime.v8 import initialize_v8
from .scheduler.service import Scheduler
from .search import SearchService
from .sync.runtime_backend import RuntimeBackend
from .sync.service import SyncService
from .transactions import CommitRecord, Database, open_database
from .usage import DeploymentReporter, start_usage_reporting

log = structlog.get_logger(__name__)


def blob_store(config: DeploymentConfig) -> BlobStore:
    """S3 for `s3://bucket/prefix` (credentials from the usual AWS_* variables), else the
    deployment's data dir."""
    if config.blob_store.startswith("s3://"):
        import boto3  # loaded only for S3: it costs a start ~0.15 s

        bucket, _, prefix = config.blob_store[5:].partition("/")
        client = boto3.client("s3", endpoint_url=config.s3_endpoint_url or None)
        return S3BlobStore(bucket, client, prefix)
    return LocalBlobStore(config.data_dir / "files")


class DeploymentApp:
    """Everything one deployment runs in this process, built once and wired explicitly."""

    def __init__(self, config: DeploymentConfig) -> None:
        # V8 first, on the main thread, before this app starts any thread of its own: a
        # thread started earlier crashes the process when it makes an isolate (see
        # `initialize_v8`), as the code follower's does when it re-activates a push.
        if threading.current_thread() is not threading.main_thread():
            log.warning("deployment built off the main thread: V8 may crash making isolates")
        initialize_v8()
        self.config = config
        self.activity = Activity()  # requests and sockets, counted by asgi.py
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.db: Database = open_database(
            config.database_url,
            role=config.role,
            retention_ns=int(config.history_retention_s * 1e9),
            gc_interval_s=config.gc_interval_s,
        )
        self.files = FileService(
            self.db,
            blob_store(config),
            secret=config.instance_secret,
            public_url=config.public_url,
            deployment=config.name,
        )
        self.search = SearchService(self.db, config.data_dir)
        self.runner = FunctionRunner(
            self.db,
            name=config.name,
            limits=config.limits,
            files=self.files,
            search=self.search,
            signer=JwtSigner(config.instance_secret, config.public_url),
        )
        self.logs = FunctionLogStream()  # `npx convex logs`; fed before any call runs
        self.runner.add_log_listener(self.logs.on_function_log)
        self.metrics = FunctionMetrics()  # the console's Health charts
        self.runner.add_log_listener(self.metrics.on_function_log)
        self.node_packages = NodePackages(
            config.node_packages_dir,
            npm_binary=config.npm_binary,
            timeout_s=config.npm_install_seconds,
        )
        self.code = ActiveCode(
            self.db,
            self.runner,
            self.search,
            self.files,
            name=config.name,
            public_url=config.public_url,
            site_url=config.site_url,
            packages=self.node_packages,
            cache_dir=config.data_dir,
        )
        self.system = SystemFunctions(DashboardServices(self.db, self.code, self.files))
        self.runner.system = self.system
        own_site = OwnSite(
            self.runner,
            lambda: self.code.current() is not None,
            public_url=config.public_url,
            site_url=config.site_url,
        )
        self.auth = Authenticator(
            config.name,
            config.instance_secret,
            config.revocation_path,
            self.code.auth_providers,
            # Auth providers' discovery documents and JWKS: tenant-chosen URLs, fetched under
            # the same egress rule as fetch() in actions.
            JwksCache(
                fetch_json_via(
                    own_site,
                    functools.partial(
                        egress.get_bytes,
                        allow_private=config.limits.fetch_allow_private,
                        timeout=FETCH_TIMEOUT_S,
                    ),
                )
            ),
        )
        self.scheduler = Scheduler(
            self.db,
            self.runner,
            name=config.name,
            broker_url=config.celery_broker,
            workers=config.scheduler_workers,
            data_dir=config.data_dir,
        )
        self.pushes = PushManager(self.db, self.code, self.node_packages)
        self.exports = Jobs(self.db, self.files, self.code.schema, config.data_dir)
        self.streaming = StreamingExport(self.db, self.code.schema)
        self.sync = SyncService(
            self.db, RuntimeBackend(self.runner), auth=self.auth, threads=config.sync_threads
        )
        self.http_threads = ThreadPoolExecutor(
            max_workers=config.http_threads, thread_name_prefix="strata-http"
        )
        self.usage: DeploymentReporter | None = None
        self._closed = False
        self._committer_tasks: list[Callable[[], None]] = []
        self._follower: Follower | None = None
        self._code_follower: CodeFollower | None = None
        if config.role != "committer":
            self._join_replication()
        if config.redis_url:
            self._announce_commits()
        # `_storage` exists from the start, so db.system.query("_storage") works before any
        # upload and every deployment numbers it alike (ids stay valid across export/import).
        self.when_committer(self.files.ensure_table)

    # ----- several processes per deployment -------------------------------------------

    def _join_replication(self) -> None:
        """Announce this process as committer, or follow the committer as a read replica."""
        db = self.db
        # Pushes and env changes may land through any process: all of them re-activate.
        self._code_follower = CodeFollower(db, self.code)
        db.add_commit_listener(self._code_follower.on_commit)
        if not db.replica:
            db.set_committer_url(self.config.internal_url)
        key = mint_key(self.config.name, self.config.instance_secret)
        db.forwarder = HttpForwarder(db, key)
        self._follower = Follower(db, self._promoted)
        self._follower.start()

    def _promoted(self) -> None:
        self.db.set_committer_url(self.config.internal_url)
        tasks, self._committer_tasks = self._committer_tasks, []
        for task in tasks:
            task()

    def _announce_commits(self) -> None:
        """Publish this process's commits on Redis; other processes' wake our subscriptions
        (and, on a replica, read the log right away)."""
        from .sync.bus import CommitBus  # redis loads only when a Redis URL is set

        db, manager = self.db, self.sync.manager

        def on_remote(record: CommitRecord) -> None:
            manager.ingest_remote(record)
            if self._follower is not None:
                self._follower.wake()

        bus = CommitBus(self.config.redis_url, self.config.name, on_remote)

        def on_local(record: CommitRecord) -> None:
            if not db.replica:  # a replica's records came from the committer
                bus.publish(record)

        db.add_commit_listener(on_local)
        self.sync.bus = bus

    def when_committer(self, task: Callable[[], None]) -> None:
        """Run task now if this process commits, else once it takes over (e.g. the scheduler)."""
        if self.db.replica:
            self._committer_tasks.append(task)
        else:
            task()

    # ----- lifetime -----------------------------------------------------------------------

    def start(self, *, scheduler: bool = True) -> DeploymentApp:
        """Restore the deployed code (so WebSocket-only clients find their functions right
        after a restart), start usage reports and, on the committer, the scheduler."""
        self.code.current()
        self.usage = start_usage_reporting(self.config, self.db, self.runner)
        if scheduler:
            # Re-scans pending jobs left by a previous process; on a replica, once it takes over.
            self.when_committer(self.scheduler.start)
        return self

    def close(self) -> None:
        """Stop in reverse order of dependence; vector indexes are saved, storage flushed.
        Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        if self.usage is not None:
            self.usage.stop()
        self.scheduler.stop()
        self.exports.wait(timeout=5.0)
        self.streaming.close()
        self.sync.close()
        self.runner.close()
        self.search.close()
        self.files.close()
        if self._follower is not None:
            self._follower.stop()
        if self._code_follower is not None:
            self._code_follower.stop()
        self.http_threads.shutdown(wait=False, cancel_futures=True)
        self.db.close()
