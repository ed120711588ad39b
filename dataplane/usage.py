"""Usage metering of one deployment, pushed to the control plane (format: tenants/usage.py).

The runner's log listener counts one function call per execution, the database bytes of
every transaction a call owns and, for actions, compute as isolate heap MiB x wall ms
(what the plan's GB-hours are made of). Storage bytes are a gauge: the sizes of the live
`_storage` documents, re-read before each report so uploads and deletes need no hook.
"""

from __future__ import annotations

import atexit
import math
import os
from typing import TYPE_CHECKING

import orjson
import structlog

from tenants.usage import COUNTERS, UsageMeter, UsageReport, UsageReporter

if TYPE_CHECKING:
    from .deployment import Deployment
    from .runtime.outcomes import FunctionLog

STORAGE_TABLE = "_storage"
ACTION_KINDS = frozenset({"action", "http"})
DEFAULT_INTERVAL = 30.0
STOP_JOIN_SECONDS = 2.0
log = structlog.get_logger(__name__)


class DeploymentMeter:
    """Feeds a UsageMeter from one deployment's executions and file storage."""

    def __init__(self, deployment: Deployment, meter: UsageMeter | None = None) -> None:
        self.deployment = deployment
        self.meter = meter or UsageMeter()
        self.memory_mb = max(1, deployment.runner.limits.heap_bytes >> 20)

    def attach(self) -> None:
        self.deployment.runner.add_log_listener(self.on_execution)

    def detach(self) -> None:
        self.deployment.runner.remove_log_listener(self.on_execution)

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
        total = storage_bytes(self.deployment)
        self.meter.set_storage_bytes(total)
        return total


def storage_bytes(deployment: Deployment) -> int:
    """Bytes of every live file: read from storage directly, so no transaction limits apply."""
    db = deployment.db
    meta = db.catalog.by_name.get(STORAGE_TABLE)
    if meta is None:
        return 0
    total = 0
    for _, _, raw in db.persistence.latest_documents(meta.by_id.index_id):
        size = orjson.loads(raw).get("size", 0)
        if isinstance(size, int | float) and not isinstance(size, bool):
            total += int(size)
    return total


class DeploymentReporter(UsageReporter):
    """A UsageReporter that refreshes the storage gauge right before every push."""

    def __init__(self, source: DeploymentMeter, url: str, interval: float) -> None:
        config = source.deployment.config
        super().__init__(source.meter, config.name, config.instance_secret, url, interval)
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


def start_usage_reporting(deployment: Deployment) -> DeploymentReporter | None:
    """Meter and report when STRATA_DP_USAGE_URL is set (the server calls this at start-up).

    STRATA_DP_USAGE_INTERVAL sets the push period in seconds (default 30); the counts still
    pending are pushed once more when the process exits.
    """
    url = os.environ.get("STRATA_DP_USAGE_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"STRATA_DP_USAGE_URL must be an http(s) URL, got {url!r}")
    raw_interval = os.environ.get("STRATA_DP_USAGE_INTERVAL", "") or str(DEFAULT_INTERVAL)
    try:
        interval = float(raw_interval)
    except ValueError:
        raise ValueError(
            f"STRATA_DP_USAGE_INTERVAL must be seconds, got {raw_interval!r}"
        ) from None
    if not math.isfinite(interval) or interval <= 0:
        raise ValueError(f"STRATA_DP_USAGE_INTERVAL must be positive, got {raw_interval!r}")
    if not deployment.config.instance_secret:
        raise ValueError("usage reports are signed: STRATA_DP_INSTANCE_SECRET must be set")
    source = DeploymentMeter(deployment)
    source.attach()
    reporter = DeploymentReporter(source, url, interval)
    reporter.start()
    atexit.register(reporter.stop)
    log.info("usage reporting started", url=url, interval=interval)
    return reporter
