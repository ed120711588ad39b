"""Function paths, value formats, timestamps and the log stream cursor."""

from __future__ import annotations

import math
import threading

import pytest

from dataplane.deploy.errors import DeployError
from dataplane.deploy.paths import display_path, parse_udf_path
from dataplane.http.timestamps import decode_ts, encode_ts
from dataplane.http.valueformat import clean_json, format_value, parse_args
from dataplane.runtime import FunctionLog, LogLine
from dataplane.runtime.logs import FunctionLogStream


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("messages:list", ("messages.js", "list")),
        ("messages.js:list", ("messages.js", "list")),
        ("dir/file", ("dir/file.js", "default")),
        ("dir/sub/mod:fn", ("dir/sub/mod.js", "fn")),
        ("_system/cli/tableSize:default", ("_system/cli/tableSize.js", "default")),
    ],
)
def test_udf_paths(raw: str, expected: tuple[str, str]) -> None:
    assert parse_udf_path(raw) == expected


@pytest.mark.parametrize("raw", ["", ":x", "a:b-c", "../x:y", "a b:c", 5, None])
def test_bad_udf_paths(raw: object) -> None:
    with pytest.raises(DeployError):
        parse_udf_path(raw)


def test_display_path() -> None:
    assert display_path("messages.js", "list") == "messages:list"
    assert display_path("dir/a.js", "default") == "dir/a"


def test_value_formats() -> None:
    value = {"n": 5, "f": 1.5, "b": b"\x01", "nan": math.nan, "l": [True, None, "s"]}
    assert format_value(value, "convex_encoded_json")["n"] == {"$integer": "BQAAAAAAAAA="}
    assert clean_json(value) == {
        "n": "5",
        "f": 1.5,
        "b": "AQ==",
        "nan": "NaN",
        "l": [True, None, "s"],
    }
    with pytest.raises(DeployError, match="Unknown format"):
        format_value(1.0, "xml")


def test_args_forms() -> None:
    assert parse_args([{"a": {"$integer": "AQAAAAAAAAA="}}]) == {"a": 1}
    assert parse_args(None) == {}
    for bad in ([1, 2], "x", [5], {"$bad": 1}):
        with pytest.raises(DeployError):
            parse_args(bad)


def test_timestamps() -> None:
    assert encode_ts(1000) == "6AMAAAAAAAA="
    assert decode_ts("6AMAAAAAAAA=") == 1000
    for bad in (None, "!!", "AAAA"):
        with pytest.raises(DeployError):
            decode_ts(bad)


def _log(path: str, message: str) -> FunctionLog:
    line = LogLine("LOG", message, 1.0)
    return FunctionLog(path, "query", [line], True, None, 1000.0, 2.0, "r1")


def test_log_stream_cursor_and_wakeup() -> None:
    stream = FunctionLogStream(capacity=3)
    assert stream.since(0, 0) == ([], 0)
    stream.on_function_log(_log("a:one", "x"))
    entries, cursor = stream.since(0, 0)
    assert cursor == 1 and entries[0]["identifier"] == "a:one"
    assert entries[0]["udfType"] == "Query"
    assert entries[0]["logLines"][0]["messages"] == ["x"]

    timer = threading.Timer(0.2, lambda: stream.on_function_log(_log("a:two", "y")))
    timer.start()
    entries, cursor = stream.since(1, 30)
    timer.join()
    assert [e["identifier"] for e in entries] == ["a:two"] and cursor == 2

    for i in range(5):
        stream.on_function_log(_log(f"b:{i}", "z"))
    entries, cursor = stream.since(0, 0)
    assert [e["identifier"] for e in entries] == ["b:2", "b:3", "b:4"] and cursor == 7
    # A cursor from before a restart (ahead of this process) starts over.
    entries, _ = stream.since(100, 0)
    assert len(entries) == 3


def test_brotli_bodies_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import brotli

    from dataplane.http import web

    data = b'{"a": "' + os.urandom(200_000).hex().encode() + b'"}'
    assert web._brotli_bounded(brotli.compress(data)) == data
    with pytest.raises(DeployError, match="truncated"):
        web._brotli_bounded(brotli.compress(data)[:1000])
    with pytest.raises(DeployError, match="brotli"):
        web._brotli_bounded(b"definitely not brotli")
    monkeypatch.setattr(web, "MAX_BODY_BYTES", 100_000)
    with pytest.raises(DeployError, match="too large") as info:
        web._brotli_bounded(brotli.compress(b"x" * 3_000_000))
    assert info.value.status == 413
