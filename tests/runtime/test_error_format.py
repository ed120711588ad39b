"""Failing functions report errors laid out as Convex does: `Uncaught <Name>: <message>` and one
`    at <fn> (<file>:<line>:<col>)` line per frame of the app's own source-mapped code (nothing
from the `convex` package or the runtime), nested ctx.run* failures wrapped with the inner text,
and an HTTP action that throws answering Convex's JSON error body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import (
    AppAnalysis,
    Bundle,
    FunctionError,
    FunctionRunner,
    RuntimeLimits,
    analyze_bundle,
    build_bundle,
)
from dataplane.runtime.errorformat import SystemFailure
from tests.apps.cli_bundle import cli_modules
from tests.runtime.conftest import activate, make_deployment

FRAME = r"    at (async )?(<anonymous>|[\w.]+) \(\.\./convex/{file}\.ts:\d+:\d+\)\n"


@pytest.fixture(scope="module")
def errors_bundle() -> Bundle:
    return build_bundle(cli_modules("errors"))


@pytest.fixture(scope="module")
def errors_analysis(errors_bundle: Bundle) -> AppAnalysis:
    return analyze_bundle(errors_bundle, {})


@pytest.fixture
def erunner(
    tmp_path: Path, errors_bundle: Bundle, errors_analysis: AppAnalysis
) -> Iterator[FunctionRunner]:
    d: DeploymentApp = make_deployment(tmp_path, "errors-test")
    try:
        yield activate(d, errors_bundle, errors_analysis, env={}, limits=RuntimeLimits())
    finally:
        d.close()


def _failure(call: object) -> FunctionError:
    assert callable(call)
    with pytest.raises(FunctionError) as info:
        call()
    return info.value


def test_thrown_error_shows_only_user_frames(erunner: FunctionRunner) -> None:
    err = _failure(lambda: erunner.run_query("errors:plainError", {}))
    assert re.fullmatch(
        "Uncaught Error: plain failure\n" + FRAME.format(file="errors"), err.message
    )
    assert not err.has_data


def test_convex_error_message_and_data(erunner: FunctionRunner) -> None:
    err = _failure(lambda: erunner.run_query("errors:stringData", {}))
    assert re.fullmatch(
        "Uncaught ConvexError: just a string\n" + FRAME.format(file="errors"), err.message
    )
    assert err.data == "just a string"
    err = _failure(lambda: erunner.run_mutation("errors:objectData", {}))
    assert err.message.startswith(
        'Uncaught ConvexError: {"zeta":1,"alpha":"two","code":"3n"}\n    at handler ('
    )
    assert err.data == {"zeta": 1.0, "alpha": "two", "code": 3}


def test_nested_failures_wrap_the_inner_error(erunner: FunctionRunner) -> None:
    inner = "Uncaught ConvexError: just a string\n" + FRAME.format(file="errors")
    err = _failure(lambda: erunner.run_action("errors:viaQuery", {}))
    assert re.fullmatch(
        "Uncaught ConvexError: " + inner + "\n" + FRAME.format(file="errors"), err.message
    )
    assert err.data == "just a string"
    assert re.search(r"\n\n    at async handler \(\.\./convex/errors\.ts", err.message)

    err = _failure(lambda: erunner.run_action("errors:viaMutation", {}))
    assert err.message.startswith(
        'Uncaught ConvexError: Uncaught ConvexError: {"zeta":1,"alpha":"two","code":"3n"}\n'
    )
    assert err.data == {"zeta": 1.0, "alpha": "two", "code": 3}

    err = _failure(lambda: erunner.run_action("errors:viaPlainQuery", {}))
    assert err.message.startswith("Uncaught Error: Uncaught Error: plain failure\n    at ")
    assert not err.has_data


def test_caller_catches_nested_convex_error_with_its_data(erunner: FunctionRunner) -> None:
    out = erunner.run_action("errors:catchNested", {}).value
    assert out["isConvexError"] is True
    assert sorted(out["keys"]) == ["alpha", "code", "zeta"]


def test_node_action_frames_point_at_convex_folder(erunner: FunctionRunner) -> None:
    err = _failure(lambda: erunner.run_action("nodeErrors:throws", {}))
    assert re.fullmatch(
        "Uncaught ConvexError: from node\n" + FRAME.format(file="nodeErrors"), err.message
    )
    err = _failure(lambda: erunner.run_action("errors:viaNode", {}))
    assert re.fullmatch(
        "Uncaught ConvexError: Uncaught ConvexError: from node\n"
        + FRAME.format(file="nodeErrors")
        + "\n"
        + FRAME.format(file="errors"),
        err.message,
    )
    err = _failure(lambda: erunner.run_action("nodeErrors:viaQuery", {}))
    assert re.fullmatch(
        "Uncaught ConvexError: Uncaught ConvexError: just a string\n"
        + FRAME.format(file="errors")
        + "\n"
        + FRAME.format(file="nodeErrors"),
        err.message,
    )


def test_http_action_failure_is_a_json_error_body(erunner: FunctionRunner) -> None:
    resp = erunner.run_http_action("GET", "http://site.test/fails", [], None)
    assert resp.status == 500
    assert ("content-type", "application/json") in resp.headers
    body = orjson.loads(resp.body)
    assert re.fullmatch(
        r"\[Request ID: [0-9a-f]{16}\] Server Error: Uncaught Error: route failed", body["code"]
    )
    assert re.fullmatch("Uncaught Error: route failed\n" + FRAME.format(file="http"), body["trace"])
    assert "data" not in body
    resp = erunner.run_http_action("GET", "http://site.test/fails_with_data", [], None)
    body = orjson.loads(resp.body)
    assert body["data"] == {"reason": "teapot", "status": 418.0}


def test_action_timeout_is_worded_as_convex(
    tmp_path: Path, errors_bundle: Bundle, errors_analysis: AppAnalysis
) -> None:
    d = make_deployment(tmp_path, "errors-timeout")
    try:
        limits = RuntimeLimits(action_seconds=0.5)
        runner = activate(d, errors_bundle, errors_analysis, env={}, limits=limits)
        err = _failure(lambda: runner.run_action("errors:spin", {}))
        assert err.message == "Action `spin` execution timed out (maximum duration 0.5s)"
    finally:
        d.close()


def test_test_only_syscalls_fail_the_call_with_a_system_error(erunner: FunctionRunner) -> None:
    occ = _failure(lambda: erunner.run_mutation("errors:conflictUntilMarked", {}))
    assert isinstance(occ, SystemFailure) and occ.code == "OptimisticConcurrencyControlFailure"
    busy = _failure(lambda: erunner.run_mutation("errors:busyUntilMarked", {}))
    assert isinstance(busy, SystemFailure) and busy.code == "Busy"
    caught = _failure(lambda: erunner.run_mutation("errors:conflictCaught", {}))
    assert isinstance(caught, SystemFailure)
    erunner.run_mutation("errors:mark", {})
    assert erunner.run_mutation("errors:conflictUntilMarked", {}).value == "done"
    assert erunner.run_mutation("errors:busyUntilMarked", {}).value == "done"


@pytest.mark.parametrize(
    ("call", "index"),
    [
        (lambda r: r.run_query("staged:byName", {}), "by_name"),
        (lambda r: r.run_query("staged:search", {}), "search_name"),
        (lambda r: r.run_action("staged:vector", {}), "by_embedding"),
    ],
)
def test_staged_indexes_are_reported_as_staged(
    erunner: FunctionRunner, call: Any, index: str
) -> None:
    err = _failure(lambda: call(erunner))
    assert err.message.startswith(
        f"Uncaught Error: Index staged.{index} is currently staged and not available to query "
        "until it is enabled\n"
    )


def test_unknown_index_is_still_not_found(erunner: FunctionRunner) -> None:
    err = _failure(lambda: erunner.run_query("staged:missing", {}))
    assert "Index staged.nope not found" in err.message


def test_vector_of_the_wrong_dimension_is_refused(erunner: FunctionRunner) -> None:
    erunner.run_mutation("errors:addVector", {"embedding": [1.0, 2.0, 3.0]})
    erunner.run_mutation("errors:addVector", {})  # no vector: stored, just not indexed
    err = _failure(lambda: erunner.run_mutation("errors:addVector", {"embedding": [1.0, 2.0]}))
    assert (
        'Failed to insert or update a document in table "vectors": field `embedding` holds a '
        "vector of 2 dimensions but vector index `by_embedding` requires 3"
    ) in err.message
