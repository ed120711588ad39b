"""Web APIs, process.env, determinism, and actions' real asynchrony (timers, fetch)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import AppAnalysis, Bundle, FunctionError, FunctionRunner
from tests.runtime.conftest import activate


def test_web_apis_and_env(runner: FunctionRunner) -> None:
    out = runner.run_query("env:globals", {}).value
    assert out["encoded"] == [float(b) for b in "héllo".encode()]
    assert out["decoded"] == "héllo"
    assert out["host"] == "example.com:8443"
    assert out["pathname"] == "/a/b"
    assert out["y"] == "two"
    assert out["href"] == "https://example.com:8443/a/b?x=1&y=two&z=3#frag"
    assert out["b64"] == "aGkgdGhlcmU=" and out["unb64"] == "hi there"
    assert out["clone"] == {"a": [1.0, {"b": 2.0}]}
    assert out["uuidLength"] == 36.0 and out["randomBytes"] == 8.0
    assert out["digestHex"] == hashlib.sha256("héllo".encode()).hexdigest()
    assert out["secret"] == "s3cret"


def test_queries_are_deterministic(runner: FunctionRunner) -> None:
    ts = runner.db.latest_ts()
    a = runner.run_query("env:globals", {}, ts=ts).value
    b = runner.run_query("env:globals", {}, ts=ts).value
    assert a["random"] == b["random"]
    assert a["now"] == a["dateNow"]  # Date.now() and new Date() agree: time is frozen
    assert 0.0 <= a["random"] < 1.0


def test_env_vars_change_on_reactivation(
    deployment: DeploymentApp, messages_bundle: Bundle, messages_analysis: AppAnalysis
) -> None:
    runner = activate(deployment, messages_bundle, messages_analysis, env={})
    assert runner.run_query("env:globals", {}).value["secret"] is None
    runner.set_env_vars({"SECRET": "rotated"})
    assert runner.run_query("env:globals", {}).value["secret"] == "rotated"


def test_console_timers_and_quotes_as_convex_prints_them(runner: FunctionRunner) -> None:
    """Whole milliseconds, a warning for a timer started twice or never, and a string
    quoted with the first quote it does not contain (as Node's inspect does)."""
    logs = [line.formatted() for line in runner.run_query("env:timers", {}).logs]
    assert logs == [
        "[WARN] \"Timer 't' already exists\"",
        "[LOG] 't: 0ms' 'more'",  # time is frozen in a query
        "[LOG] 't: 0ms'",
        "[WARN] \"Timer 't' does not exist\"",
    ]


def test_action_timers_really_wait(runner: FunctionRunner) -> None:
    assert runner.run_action("env:sleepy", {"ms": 30.0}).value is True


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"seen x-test={self.headers.get('x-test')}".encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hello"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_in_action(
    deployment: DeploymentApp,
    messages_bundle: Bundle,
    messages_analysis: AppAnalysis,
    local_server: str,
) -> None:
    from dataplane.runtime import RuntimeLimits

    # The local server is on loopback: the operator's explicit opt-in.
    runner = activate(
        deployment,
        messages_bundle,
        messages_analysis,
        limits=RuntimeLimits(fetch_allow_private=True),
    )
    out = runner.run_action("env:fetchUrl", {"url": local_server}).value
    assert out == {"status": 200.0, "body": "seen x-test=yes", "type": "text/plain"}
    with pytest.raises(FunctionError, match="only supports http"):
        runner.run_action("env:fetchUrl", {"url": "file:///etc/passwd"})


def test_identity_defaults_to_none(runner: FunctionRunner) -> None:
    assert runner.run_query("env:identity", {}).value is None

    class Caller:
        user = {"tokenIdentifier": "iss|u1", "subject": "u1", "issuer": "iss", "name": "Ann"}

    assert runner.run_query("env:identity", {}, identity=Caller()).value == Caller.user


def test_hmac_for_webhook_verification(runner: FunctionRunner) -> None:
    import hmac as py_hmac

    out = runner.run_query("env:hmac", {"secret": "k3y", "payload": "body"}).value
    expected = py_hmac.new(b"k3y", b"body", "sha256").hexdigest()
    assert out == {"hex": expected, "ok": True, "bad": False}


def test_fetch_policy_blocks_metadata_and_optionally_private(
    deployment: DeploymentApp,
    messages_bundle: Bundle,
    messages_analysis: AppAnalysis,
    local_server: str,
) -> None:
    from dataplane.runtime import RuntimeLimits

    strict = activate(
        deployment,
        messages_bundle,
        messages_analysis,
        limits=RuntimeLimits(fetch_allow_private=False),
    )
    with pytest.raises(FunctionError, match=r"169\.254\.169\.254.*not allowed"):
        strict.run_action("env:fetchUrl", {"url": "http://169.254.169.254/latest/meta-data"})
    with pytest.raises(FunctionError, match=r"private address 127\.0\.0\.1"):
        strict.run_action("env:fetchUrl", {"url": local_server})


def test_actions_get_fresh_os_randomness(runner: FunctionRunner) -> None:
    a = runner.run_action("env:randomness", {}).value
    b = runner.run_action("env:randomness", {}).value
    assert len(a["bytes"]) == 16 and a["bytes"] != b["bytes"]
    assert a["uuid"] != b["uuid"] and a["uuid"][14] == "4"
    assert a["random"] != b["random"]
