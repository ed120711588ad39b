"""Usage metering of one deployment, pushed to the control plane (format: contract/usage.py).

The runner's log listener counts one function call per execution, the database bytes of
every transaction a call owns and, for actions, compute as isolate heap MiB x wall ms
(what the plan's GB-hours are made of). Storage bytes are a gauge: the sizes of the live
`_storage` documents, re-read before each report so uploads and deletes need no hook.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING

import structlog

from contract.usage import COUNTERS, UsageMeter, UsageReport, UsageReporter

if TYPE_CHECKING:
    from .config import DeploymentConfig
    from .runtime import FunctionRunner
    from .runtime.outcomes import FunctionLog
    from .transactions import Database

STORAGE_TABLE = "_storage"
ACTION_KINDS = frozenset({"action", "http"})
DEFAULT_INTERVAL = 30.0
STOP_JOIN_SECONDS = 2.0
log = structlog.get_logger(__name__)


class DeploymentMeter:
    """Feeds a UsageMeter from one deployment's executions and file storage."""

    def __init__(
        self, name: str, db: Database, runner: FunctionRunner, meter: UsageMeter | None = None
    ) -> None:
        self.name = name
        self.db = db
        self.runner = runner
        self.meter = meter or UsageMeter()
        self.memory_mb = max(1, runner.limits.heap_bytes >> 20)

    def attach(self) -> None:
        self.runner.add_log_listener(self.on_execution)

    def detach(self) -> None:
        self.runner.remove_log_listener(self.on_execution)

    def on_execution(self, entry: FunctionLog) -> None:
        compute = round(self.memory_mb * entry.duration_ms) if entry.kind in ACTION_KINDS else 0
        self.meter.add(
            function_calls=1,
            db_bytes_read=entry.db_bytes_read,
            db_bytes_written=entry.db_bytes_written,
            action_compute_mb_ms=compute,
        )

    def refresh_storage(self) -> int:
        """Recount the stored file bytes (sum of `_storage` sizes) and record the gauge."""
        total = storage_bytes(self.db)
        self.meter.set_storage_bytes(total)
        return total


def storage_bytes(db: Database) -> int:
    """Bytes of every live file: read from storage directly, so no transaction limits apply."""
    total = 0
    for doc in db.latest_documents(STORAGE_TABLE):
        size = doc.get("size", 0)
        if isinstance(size, int | float) and not isinstance(size, bool):
            total += int(size)
    return total


class DeploymentReporter(UsageReporter):
    """A UsageReporter that refreshes the storage gauge right before every push."""

    def __init__(self, source: DeploymentMeter, secret: str, url: str, interval: float) -> None:
        super().__init__(source.meter, source.name, secret, url, interval)
        self.source = source
        self._stopped = False
        self._delivered_storage: int | None = None  # None: tell the gauge at least once

    def stop(self) -> None:
        """Stop metering and push what is left (once; also registered to run at exit)."""
        atexit.unregister(self.stop)
        if self._stopped:
            return
        self._stopped = True
        self.source.detach()
        # Not UsageReporter.stop: its join may wait on a push whose answer is this very
        # shutdown (a control plane pausing the deployment over quota), so give up soon.
        self._stop.set()
        self._thread.join(timeout=STOP_JOIN_SECONDS)
        self.flush()

    def worth_sending(self, report: UsageReport) -> bool:
        """Idle deployments stay quiet: only new counts or a changed storage total are sent."""
        counted = any(getattr(report, name) for name in COUNTERS)
        return counted or report.storage_bytes != self._delivered_storage

    def flush(self) -> bool:
        try:
            storage = self.source.refresh_storage()
        except Exception:  # a storage hiccup must not lose the counters
            log.exception("could not measure file storage; reporting the previous total")
            storage = None
        delivered = super().flush()
        if delivered and storage is not None:
            self._delivered_storage = storage
        return delivered


def start_usage_reporting(
    config: DeploymentConfig, db: Database, runner: FunctionRunner
) -> DeploymentReporter | None:
    """Meter and report when the config names a usage URL (STRATA_DP_USAGE_URL; the server
    calls this at start-up). The counts still pending are pushed once more at exit."""
    if not config.usage_url:
        return None
    if not config.instance_secret:
        raise ValueError("usage reports are signed: STRATA_DP_INSTANCE_SECRET must be set")
    source = DeploymentMeter(config.name, db, runner)
    source.attach()
    reporter = DeploymentReporter(
        source, config.instance_secret, config.usage_url, config.usage_interval
    )
    reporter.start()
    atexit.register(reporter.stop)
    log.info("usage reporting started", url=config.usage_url, interval=config.usage_interval)
    return reporter
