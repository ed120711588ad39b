""" "use node" actions in a per-deployment Node.js worker: Node built-ins, ctx.run*, process.env,
file-system confinement, per-call timeout and crash recovery, and analysis rules."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.deployment import Deployment
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
def ndeploy(tmp_path: Path) -> Iterator[Deployment]:
    d = make_deployment(tmp_path, "node-test")
    try:
        yield d
    finally:
        d.close()


def _runner(d: Deployment, bundle: Bundle, analysis: AppAnalysis, seconds: float) -> FunctionRunner:
    limits = RuntimeLimits(action_seconds=seconds)
    runner = activate(d, bundle, analysis, env={"GREETING": "hello"}, limits=limits)
    return runner


@pytest.fixture
def nrunner(
    ndeploy: Deployment, node_bundle: Bundle, node_analysis: AppAnalysis
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
    assert [line.formatted() for line in out.logs] == ["[LOG] hashing 5"]
    assert nrunner.run_query("store:list", {}).value == [hashlib.sha256(b"hello").hexdigest()]
    # Argument validation happens before Node runs anything.
    with pytest.raises(FunctionError, match="ArgumentValidationError"):
        nrunner.run_action("nodeActions:hashAndStore", {"text": 5.0})


def test_v8_action_calls_internal_node_action(nrunner: FunctionRunner) -> None:
    assert nrunner.run_action("store:viaNode", {"x": 21.0}).value == 42
    with pytest.raises(FunctionError, match="Could not find public function"):
        nrunner.run_action("nodeActions:double", {"x": 1.0})


def test_node_actions_cannot_read_outside_their_dir(
    nrunner: FunctionRunner, ndeploy: Deployment
) -> None:
    for path in ("/etc/hostname", str(ndeploy.config.data_dir / "db.sqlite3"), __file__):
        assert nrunner.run_action("nodeActions:readFile", {"path": path}).value == (
            "denied: ERR_ACCESS_DENIED"
        )


def test_timeout_kills_and_restarts_the_worker(
    ndeploy: Deployment, node_bundle: Bundle, node_analysis: AppAnalysis
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
