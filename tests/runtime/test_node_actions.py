""" "use node" actions in a per-deployment Node.js worker: Node built-ins, ctx.run*, process.env,
file-system confinement, per-call timeout and crash recovery, and analysis rules."""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import (
    AppAnalysis,
    Bundle,
    FunctionError,
    FunctionRunner,
    ModuleSource,
    RuntimeLimits,
    analyze_bundle,
    build_bundle,
)
from dataplane.runtime.analysis import AnalyzeError
from tests.apps.cli_bundle import cli_modules
from tests.runtime.conftest import activate, make_deployment


@pytest.fixture(scope="module")
def node_bundle() -> Bundle:
    return build_bundle(cli_modules("node_app"))


@pytest.fixture(scope="module")
def node_analysis(node_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(node_bundle, {"GREETING": "hello"})


@pytest.fixture
def ndeploy(tmp_path: Path) -> Iterator[DeploymentApp]:
    d = make_deployment(tmp_path, "node-test")
    try:
        yield d
    finally:
        d.close()


def _runner(
    d: DeploymentApp, bundle: Bundle, analysis: AppAnalysis, seconds: float
) -> FunctionRunner:
    limits = RuntimeLimits(action_seconds=seconds)
    runner = activate(d, bundle, analysis, env={"GREETING": "hello"}, limits=limits)
    return runner


@pytest.fixture
def nrunner(
    ndeploy: DeploymentApp, node_bundle: Bundle, node_analysis: AppAnalysis
) -> Iterator[FunctionRunner]:
    runner = _runner(ndeploy, node_bundle, node_analysis, 60.0)
    try:
        yield runner
    finally:
        runner.close()


def test_node_functions_are_analyzed_as_actions(node_analysis: AppAnalysis) -> None:
    info = node_analysis.function("nodeActions:hashAndStore")
    assert info is not None and info.kind == "action" and info.visibility == "public"
    double = node_analysis.function("nodeActions:double")
    assert double is not None and double.visibility == "internal"
    assert node_analysis.node_modules == ("nodeActions.js",)


def test_node_action_uses_crypto_env_and_calls_back(nrunner: FunctionRunner) -> None:
    out = nrunner.run_action("nodeActions:hashAndStore", {"text": "hello"})
    assert out.value == {
        "digest": hashlib.sha256(b"hello").hexdigest(),
        "count": 1.0,
        "greeting": "hello",
        "user": None,
    }
    # Log lines are formatted as in V8 functions, as Convex does in both runtimes.
    assert [line.formatted() for line in out.logs] == ["[LOG] 'hashing' 5"]
    assert nrunner.run_query("store:list", {}).value == [hashlib.sha256(b"hello").hexdigest()]
    # Argument validation happens before Node runs anything.
    with pytest.raises(FunctionError, match="ArgumentValidationError"):
        nrunner.run_action("nodeActions:hashAndStore", {"text": 5.0})


def test_v8_action_calls_internal_node_action(nrunner: FunctionRunner) -> None:
    assert nrunner.run_action("store:viaNode", {"x": 21.0}).value == 42
    with pytest.raises(FunctionError, match="Could not find public function"):
        nrunner.run_action("nodeActions:double", {"x": 1.0})


def test_node_actions_cannot_read_outside_their_dir(
    nrunner: FunctionRunner, ndeploy: DeploymentApp
) -> None:
    for path in ("/etc/hostname", str(ndeploy.config.data_dir / "db.sqlite3"), __file__):
        assert nrunner.run_action("nodeActions:readFile", {"path": path}).value == (
            "denied: ERR_ACCESS_DENIED"
        )


def test_timeout_kills_and_restarts_the_worker(
    ndeploy: DeploymentApp, node_bundle: Bundle, node_analysis: AppAnalysis
) -> None:
    runner = _runner(ndeploy, node_bundle, node_analysis, 2.0)
    try:
        with pytest.raises(FunctionError, match="timed out"):
            runner.run_action("nodeActions:spin", {})
        out = runner.run_action("nodeActions:hashAndStore", {"text": "after"})
        assert out.value["count"] == 1.0
    finally:
        runner.close()


def test_crashed_worker_is_restarted(nrunner: FunctionRunner) -> None:
    nrunner.run_action("nodeActions:hashAndStore", {"text": "a"})
    with pytest.raises(FunctionError, match=r"Node.js worker exited \(code 7\)"):
        nrunner.run_action("nodeActions:crash", {})
    out = nrunner.run_action("nodeActions:hashAndStore", {"text": "b"})
    assert out.value["count"] == 2.0


def test_use_node_files_may_only_define_actions() -> None:
    source = (
        "export const q = { isQuery: true, isPublic: true,"
        ' exportArgs: () => "{}", exportReturns: () => "null" };\n'
    )
    bundle = build_bundle([ModuleSource("bad.js", source, None, "node")])
    with pytest.raises(AnalyzeError, match=r'bad\.js:q is a query, but "use node" files may only'):
        analyze_bundle(bundle, {})


def _probe(runner: FunctionRunner, url: str, host: str, port: int) -> dict[str, str]:
    args = {
        "url": url,
        "host": host,
        "port": float(port),
        "socketPath": "/var/run/postgresql/.s.PGSQL.5432",
    }
    return dict(runner.run_action("nodeActions:probe", args).value)


def test_network_policy_private_denied(
    ndeploy: DeploymentApp, node_bundle: Bundle, node_analysis: AppAnalysis
) -> None:
    limits = RuntimeLimits(fetch_allow_private=False)
    runner = activate(ndeploy, node_bundle, node_analysis, env={}, limits=limits)
    try:
        out = _probe(runner, "http://127.0.0.1:5432/", "127.0.0.1", 5432)
        assert out["fetch"].startswith("error ERR_ACCESS_DENIED"), out
        assert "private address 127.0.0.1" in out["fetch"]
        assert out["http"].startswith("error ERR_ACCESS_DENIED"), out
        assert out["tcp"].startswith("error ERR_ACCESS_DENIED"), out
        assert out["unix"].startswith("error ERR_ACCESS_DENIED"), out
        out = _probe(runner, "http://localhost:5432/", "localhost", 5432)
        assert out["fetch"].startswith("error ERR_ACCESS_DENIED"), out
        assert out["tcp"].startswith("error ERR_ACCESS_DENIED"), out
        out = _probe(runner, "http://169.254.169.254/latest/", "169.254.169.254", 80)
        assert "address 169.254.169.254 is not allowed" in out["tcp"], out
        assert "address 169.254.169.254 is not allowed" in out["fetch"], out
        # IPv6 spellings of loopback (NAT64, 6to4) are loopback.
        for spelled in ("64:ff9b::7f00:1", "2002:7f00:1::1"):
            out = _probe(runner, f"http://[{spelled}]:5432/", spelled, 5432)
            assert "private address 127.0.0.1 is not allowed" in out["tcp"], out
            assert "private address 127.0.0.1 is not allowed" in out["fetch"], out
    finally:
        runner.close()


def test_network_policy_private_allowed_by_operator(
    ndeploy: DeploymentApp, node_bundle: Bundle, node_analysis: AppAnalysis
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    limits = RuntimeLimits(fetch_allow_private=True)
    runner = activate(ndeploy, node_bundle, node_analysis, env={}, limits=limits)
    try:
        port = server.server_address[1]
        out = _probe(runner, f"http://127.0.0.1:{port}/nothing-here", "127.0.0.1", int(port))
        assert out["fetch"] == "ok 404", out
        assert out["http"] == "ok 404", out  # node:http, whose sockets carry `path: null`
        assert out["tcp"] == "ok connected", out
        assert out["unix"].startswith("error ERR_ACCESS_DENIED"), out
        out = _probe(runner, "http://169.254.169.254/", "169.254.169.254", 80)
        assert "address 169.254.169.254 is not allowed" in out["tcp"], out
    finally:
        runner.close()
        server.shutdown()
        server.server_close()


def test_storage_from_node_actions(nrunner: FunctionRunner) -> None:
    out = nrunner.run_action("nodeActions:roundTrip", {"text": "héllo"})
    assert out.value == {"text": "héllo", "size": float(len("héllo".encode()))}


def test_node_errors_point_at_the_typescript_source(nrunner: FunctionRunner) -> None:
    with pytest.raises(FunctionError) as info:
        nrunner.run_action("nodeActions:fail", {})
    assert info.value.message.startswith("Uncaught Error: node says no")
    assert "convex/nodeActions.ts:" in info.value.message
    # Neither the worker's temp dir nor the server's own paths leak into user-visible stacks.
    assert "/tmp/" not in info.value.message
    assert "dataplane/runtime" not in info.value.message


def test_uncaught_exception_fails_its_action(nrunner: FunctionRunner) -> None:
    """As on Convex: `uncaughtException: <message>`, not a crashed worker; the worker (and
    the actions it runs next) carries on."""
    with pytest.raises(FunctionError, match="uncaughtException: lost in a callback"):
        nrunner.run_action("nodeActions:throwInCallback", {})
    assert nrunner.run_action("nodeActions:hashAndStore", {"text": "a"}).value["count"] == 1.0
    node = nrunner._active.node  # type: ignore[union-attr]
    assert node is not None and node.starts == 1


def test_stacks_seen_by_user_code_name_convex_user_modules(nrunner: FunctionRunner) -> None:
    """`new Error().stack` in a Node action names the module as Convex does
    (convex:/user/<module>.js, bundled positions); reported errors still map to the source."""
    stack = nrunner.run_action("nodeActions:ownStack", {}).value
    lines = stack.splitlines()
    assert lines[0] == "Error: where am I"
    assert lines[1].startswith("    at inner (convex:/user/nodeActions.js:")
    assert lines[2].startswith("    at outer (convex:/user/nodeActions.js:")
    assert "/tmp/" not in stack and ".ts:" not in stack


def test_console_timers_print_as_convex(nrunner: FunctionRunner) -> None:
    logs = [line.formatted() for line in nrunner.run_action("nodeActions:timers", {}).logs]
    assert len(logs) == 5
    assert re.fullmatch(r"\[LOG\] 'default: \d+ms' 'step' 1", logs[0])
    assert re.fullmatch(r"\[LOG\] 'default: \d+ms'", logs[1])
    assert logs[2] == "[WARN] \"Timer 't' already exists\""  # Node's choice of quotes
    assert re.fullmatch(r"\[LOG\] 't: \d+ms'", logs[3])
    assert logs[4] == "[WARN] \"Timer 't' does not exist\""


def test_concurrent_node_actions_share_one_worker(nrunner: FunctionRunner) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"t{i}" for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        digests = list(
            pool.map(
                lambda t: nrunner.run_action("nodeActions:hashAndStore", {"text": t}).value[
                    "digest"
                ],
                texts,
            )
        )
    assert digests == [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    assert sorted(nrunner.run_query("store:list", {}).value) == sorted(digests)
    node = nrunner._active.node  # type: ignore[union-attr]
    assert node is not None and node.starts == 1


def test_network_policy_checks_every_redirect_hop(
    ndeploy: DeploymentApp, node_bundle: Bundle, node_analysis: AppAnalysis
) -> None:
    from tests.security.redirector import redirector

    limits = RuntimeLimits(fetch_allow_private=True)
    runner = activate(ndeploy, node_bundle, node_analysis, env={}, limits=limits)
    try:
        with redirector() as hop:
            port = int(hop.base.rsplit(":", 1)[1])
            first = hop.redirect_to("http://169.254.169.254/")
            out = _probe(runner, first, "127.0.0.1", port)
            assert {path for path, _ in hop.seen} == {first[len(hop.base) :]}, hop.seen
        assert "address 169.254.169.254 is not allowed" in out["fetch"], out
    finally:
        runner.close()


def test_an_action_nothing_can_settle_times_out_at_once(
    ndeploy: DeploymentApp, node_bundle: Bundle, node_analysis: AppAnalysis
) -> None:
    """Its promise can never settle (no timer, I/O or server call left), so it would only run
    out of time: it is reported as timed out without waiting out the 600 s limit, while a
    slow action that still has work pending runs to its end."""
    runner = _runner(ndeploy, node_bundle, node_analysis, 600.0)
    try:
        done = threading.Event()
        failure: list[BaseException] = []

        def stuck() -> None:
            try:
                runner.run_action("nodeActions:stuck", {})
            except BaseException as e:
                failure.append(e)
            done.set()

        threading.Thread(target=stuck, daemon=True).start()
        assert done.wait(60), "a stuck action waited for its 600 s limit"
        assert isinstance(failure[0], FunctionError)
        assert re.search(
            r"Action `stuck` execution timed out \(maximum duration 600s\)", str(failure[0])
        )
        out = runner.run_action("nodeActions:slowButAlive", {})
        assert out.value["count"] == 0.0 and len(out.value["key"]) == 8
    finally:
        runner.close()


def test_user_code_cannot_forge_messages_on_the_worker_channel(nrunner: FunctionRunner) -> None:
    """Bytes a "use node" action writes to fd 1 itself are not the host's: a forged result
    (or a syscall under another call's identity) is dropped, the real result arrives."""
    assert nrunner.run_action("nodeActions:forge", {}).value == "real"
    assert nrunner.run_action("nodeActions:double", {"x": 2.0}, allow_internal=True).value == 4
