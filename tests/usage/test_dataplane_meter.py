"""The data plane's meter, fed by a real FunctionRunner (V8) over a real SQLite database, and
its reporter pushing signed reports to a real HTTP endpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contract.usage import SIGNATURE_HEADER, UsageReport, verify_signature
from dataplane.app import DeploymentApp
from dataplane.config import ConfigError, DeploymentConfig
from dataplane.files import FileService, LocalBlobStore
from dataplane.runtime import FunctionRunner
from dataplane.runtime.outcomes import FunctionLog
from dataplane.usage import DeploymentMeter, DeploymentReporter, start_usage_reporting
from tests.runtime.conftest import make_deployment


@pytest.fixture
def metered(deployment: DeploymentApp, runner: FunctionRunner) -> Iterator[DeploymentMeter]:
    meter = DeploymentMeter(deployment.config.name, deployment.db, deployment.runner)
    meter.attach()
    try:
        yield meter
    finally:
        meter.detach()


@pytest.fixture
def seen(runner: FunctionRunner) -> Iterator[list[FunctionLog]]:
    entries: list[FunctionLog] = []
    runner.add_log_listener(entries.append)
    try:
        yield entries
    finally:
        runner.remove_log_listener(entries.append)


def drain(meter: DeploymentMeter) -> UsageReport:
    return meter.meter.drain(meter.name)


def test_each_execution_is_one_call_with_its_transaction_bytes(
    runner: FunctionRunner, metered: DeploymentMeter, seen: list[FunctionLog]
) -> None:
    runner.run_mutation("messages:send", {"channel": "c", "author": "a", "body": "x" * 500})
    report = drain(metered)
    assert report.function_calls == 1
    assert report.db_bytes_written > 500  # the inserted document, body included
    assert report.action_compute_mb_ms == 0
    assert (report.db_bytes_read, report.db_bytes_written) == (
        seen[-1].db_bytes_read,
        seen[-1].db_bytes_written,
    )

    runner.run_query("messages:count", {})
    report = drain(metered)
    assert report.function_calls == 1 and report.db_bytes_written == 0
    assert report.db_bytes_read > 500


def test_nested_calls_count_as_calls_but_their_bytes_once(
    runner: FunctionRunner, metered: DeploymentMeter
) -> None:
    for body in ("one", "two", "three"):
        runner.run_mutation("messages:send", {"channel": "c", "author": "a", "body": body})
    drain(metered)
    runner.run_query("messages:secretCount", {}, allow_internal=True)
    alone = drain(metered)
    runner.run_query("messages:countViaRunQuery", {})
    nested = drain(metered)
    assert alone.function_calls == 1 and nested.function_calls == 2
    # countViaRunQuery reads nothing itself: the shared transaction's bytes are counted once.
    assert nested.db_bytes_read == alone.db_bytes_read > 0


def test_actions_are_charged_heap_megabytes_times_wall_time(
    runner: FunctionRunner, metered: DeploymentMeter, seen: list[FunctionLog]
) -> None:
    runner.run_action("env:sleepy", {"ms": 20.0})
    report = drain(metered)
    entry = seen[-1]
    assert entry.kind == "action" and metered.memory_mb == runner.limits.heap_bytes >> 20
    assert report.action_compute_mb_ms == round(metered.memory_mb * entry.duration_ms)
    assert report.action_compute_mb_ms >= metered.memory_mb * 20  # it slept at least 20 ms
    assert report.function_calls == 1

    runner.run_action("messages:viaAction", {"channel": "internal"})
    report = drain(metered)
    assert report.function_calls == 4  # the action, its mutation and two queries
    assert report.db_bytes_written > 0 and report.db_bytes_read > 0


def test_failed_executions_are_still_calls(
    runner: FunctionRunner, metered: DeploymentMeter
) -> None:
    with pytest.raises(Exception, match="body must not be empty"):
        runner.run_mutation("messages:send", {"channel": "c", "author": "a", "body": ""})
    assert drain(metered).function_calls == 1


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def storage_deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DeploymentApp]:
    """A deployment on each storage backend (the gauge reads the stored documents directly)."""
    url = request.getfixturevalue(f"{request.param}_url") if request.param != "sqlite" else None
    d = make_deployment(tmp_path, "usage-files", url)
    try:
        yield d
    finally:
        d.close()


def test_storage_gauge_follows_uploads_and_deletes(
    storage_deployment: DeploymentApp, tmp_path: Path
) -> None:
    deployment = storage_deployment
    metered = DeploymentMeter(deployment.config.name, deployment.db, deployment.runner)
    assert metered.refresh_storage() == 0
    files = FileService(
        deployment.db,
        LocalBlobStore(tmp_path / "blobs"),
        secret="s",
        public_url="http://dep.test",
        deployment="usage-test",
    )
    try:
        first = files.store([b"a" * 1000], "text/plain")
        files.store([b"b" * 234, b"c" * 10], None)
        assert metered.refresh_storage() == 1244
        txn = deployment.db.begin()
        files.delete(txn, first)
        deployment.db.commit(txn)
        assert metered.refresh_storage() == 244
        assert drain(metered).storage_bytes == 244
    finally:
        files.close()


class _Collector(BaseHTTPRequestHandler):
    """A real HTTP endpoint that records pushes, answering 503 while `failing` is set."""

    received: list[tuple[bytes, str]]
    failing: threading.Event

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if self.failing.is_set():
            self.send_response(503)
        else:
            self.received.append((raw, self.headers[SIGNATURE_HEADER]))
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, type[_Collector]]]:
    handler = type("Handler", (_Collector,), {"received": [], "failing": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/usage/report", handler
    finally:
        server.shutdown()
        server.server_close()


def test_reporter_pushes_signed_reports_and_keeps_undelivered_counts(
    deployment: DeploymentApp,
    runner: FunctionRunner,
    metered: DeploymentMeter,
    collector: tuple[str, type[_Collector]],
    tmp_path: Path,
) -> None:
    url, handler = collector
    reporter = DeploymentReporter(metered, deployment.config.instance_secret, url, interval=3600)
    handler.failing.set()
    runner.run_query("messages:count", {})
    assert reporter.flush() is False  # refused: the counts stay in the meter
    handler.failing.clear()
    runner.run_query("messages:count", {})
    assert reporter.flush() is True
    raw, signature = handler.received[-1]
    assert verify_signature(raw, signature, deployment.config.instance_secret)
    assert not verify_signature(raw, signature, "another-deployments-secret")
    report = UsageReport.from_bytes(raw)
    assert report.deployment == "usage-test" and report.function_calls == 2

    # Nothing new: nothing is sent. A changed storage total alone is worth a report.
    assert reporter.flush() is True and len(handler.received) == 1
    files = FileService(
        deployment.db,
        LocalBlobStore(tmp_path / "blobs"),
        secret="s",
        public_url="http://dep.test",
        deployment="usage-test",
    )
    try:
        files.store([b"z" * 321], None)
    finally:
        files.close()
    assert reporter.flush() is True and len(handler.received) == 2
    report = UsageReport.from_bytes(handler.received[-1][0])
    assert report.storage_bytes == 321 and report.function_calls == 0
    assert reporter.flush() is True and len(handler.received) == 2


def test_start_is_configured_from_the_environment(
    deployment: DeploymentApp,
    runner: FunctionRunner,
    collector: tuple[str, type[_Collector]],
) -> None:
    def configured(**env: str) -> DeploymentConfig:
        base = {"STRATA_DP_NAME": "rt-test", "STRATA_DP_INSTANCE_SECRET": "test-secret"}
        return DeploymentConfig.from_env({**base, **env})

    def start(config: DeploymentConfig) -> DeploymentReporter | None:
        return start_usage_reporting(config, deployment.db, runner)

    assert start(configured()) is None
    with pytest.raises(ConfigError, match="http"):
        configured(STRATA_DP_USAGE_URL="ftp://cp.example.com/usage")
    url, handler = collector
    for bad in ("soon", "0", "nan"):
        with pytest.raises(ConfigError, match="STRATA_DP_USAGE_INTERVAL"):
            configured(STRATA_DP_USAGE_URL=url, STRATA_DP_USAGE_INTERVAL=bad)
    with pytest.raises(ConfigError, match="INSTANCE_SECRET"):
        DeploymentConfig.from_env({"STRATA_DP_USAGE_URL": url})
    reporter = start(configured(STRATA_DP_USAGE_URL=url, STRATA_DP_USAGE_INTERVAL="3600"))
    assert reporter is not None
    try:
        runner.run_mutation("messages:send", {"channel": "c", "author": "a", "body": "hi"})
    finally:
        reporter.stop()  # what the process does at exit: one last push
    runner.run_query("messages:count", {})  # after stop: no longer metered
    assert reporter.source.meter.drain("x").function_calls == 0
    report = UsageReport.from_bytes(handler.received[-1][0])
    assert report.function_calls == 1 and report.db_bytes_written > 0
