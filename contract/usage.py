"""Usage reports: the format a data plane pushes to the control plane, signed per deployment.

A data plane counts with `UsageMeter` and a `UsageReporter` thread POSTs a report every
`interval` seconds to STRATA_DP_USAGE_URL (the control plane's /v1/usage/report):

    body    = {"deployment": name, "report_id": uuid hex, "period_start": unix s,
               "period_end": unix s, "function_calls": int, "db_bytes_read": int,
               "db_bytes_written": int, "storage_bytes": int (gauge, current total),
               "action_compute_mb_ms": int (memory MiB x wall ms of actions)}
    headers = {"X-Strata-Signature": hex HMAC-SHA256(instance secret, raw body)}

Counters are deltas since the previous report; `report_id` makes a retried push idempotent.
A report that fails to send is kept and merged into the next one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

import httpx
import orjson

SIGNATURE_HEADER = "X-Strata-Signature"
COUNTERS = (
    "function_calls",
    "db_bytes_read",
    "db_bytes_written",
    "action_compute_mb_ms",
)
log = logging.getLogger(__name__)


class UsageReportError(ValueError):
    """A report that is malformed or not signed by its deployment."""


@dataclass(frozen=True)
class UsageReport:
    deployment: str
    report_id: str
    period_start: float
    period_end: float
    function_calls: int = 0
    db_bytes_read: int = 0
    db_bytes_written: int = 0
    storage_bytes: int = 0
    action_compute_mb_ms: int = 0

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> UsageReport:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise UsageReportError(f"usage report is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise UsageReportError("usage report must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(body) - known
        if unknown:
            raise UsageReportError(f"unknown usage report fields: {sorted(unknown)}")
        for name in ("deployment", "report_id", "period_start", "period_end"):
            if name not in body:
                raise UsageReportError(f"usage report is missing '{name}'")
        if not isinstance(body["deployment"], str) or not isinstance(body["report_id"], str):
            raise UsageReportError("'deployment' and 'report_id' must be strings")
        for name in (*COUNTERS, "storage_bytes"):
            value = body.get(name, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UsageReportError(f"'{name}' must be a non-negative integer")
        for name in ("period_start", "period_end"):
            if not isinstance(body[name], int | float) or isinstance(body[name], bool):
                raise UsageReportError(f"'{name}' must be a number of seconds")
        return cls(**body)


def sign_report(raw: bytes, instance_secret: str) -> str:
    return hmac.new(instance_secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_signature(raw: bytes, signature: str, instance_secret: str) -> bool:
    return bool(instance_secret) and hmac.compare_digest(
        sign_report(raw, instance_secret), signature
    )


class UsageMeter:
    """Thread-safe counters the data plane bumps; `drain()` hands out and resets the deltas."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._storage_bytes = 0
        self._since = time.time()

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, value in deltas.items():
                if name not in self._counts:
                    raise KeyError(f"unknown usage counter {name!r}")
                self._counts[name] += value

    def set_storage_bytes(self, total: int) -> None:
        with self._lock:
            self._storage_bytes = total

    def drain(self, deployment: str) -> UsageReport:
        with self._lock:
            now = time.time()
            report = UsageReport(
                deployment=deployment,
                report_id=uuid.uuid4().hex,
                period_start=self._since,
                period_end=now,
                storage_bytes=self._storage_bytes,
                **self._counts,
            )
            self._counts = dict.fromkeys(COUNTERS, 0)
            self._since = now
            return report

    def restore(self, report: UsageReport) -> None:
        """Put back the counts of a report that could not be delivered."""
        self.add(**{name: getattr(report, name) for name in COUNTERS})


class UsageReporter:
    """Background thread pushing the meter's deltas to the control plane."""

    def __init__(
        self, meter: UsageMeter, deployment: str, secret: str, url: str, interval: float = 30.0
    ) -> None:
        self.meter, self.deployment, self.secret, self.url = meter, deployment, secret, url
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usage-reporter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        self.flush()

    def worth_sending(self, report: UsageReport) -> bool:
        """Subclasses may skip reports that carry nothing new (idle deployments)."""
        return True

    def flush(self) -> bool:
        report = self.meter.drain(self.deployment)
        if not self.worth_sending(report):
            return True
        raw = report.to_bytes()
        headers: dict[str, Any] = {
            SIGNATURE_HEADER: sign_report(raw, self.secret),
            "Content-Type": "application/json",
        }
        try:
            response = httpx.post(self.url, content=raw, headers=headers, timeout=10)
            response.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("usage report to %s failed: %s", self.url, exc)
            self.meter.restore(report)
            return False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
