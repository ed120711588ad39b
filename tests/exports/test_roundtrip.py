"""Export a deployment to a snapshot ZIP and import it into a fresh one: same ids, same data."""

from __future__ import annotations

import json
import math
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.exports import state
from dataplane.exports.importer import ImportRequest
from dataplane.exports.writer import SnapshotExpired, write_snapshot
from dataplane.ids import decode_id

from .conftest import same_value, wait_for

SPECIAL = {
    "big": 2**63 - 1,
    "small": -(2**63),
    "zero_int": 0,
    "blob": b"\x00\xffbytes",
    "nan": math.nan,
    "inf": math.inf,
    "ninf": -math.inf,
    "negzero": -0.0,
    "text": "12345",  # a string that looks like an int64 must stay a string
    "b64ish": "AAEC",  # ...and one that looks like base64 must too
    "nested": {"list": [1, "x", b"\x01", {"deep": 7}, None, True], "f": 1.5},
}


def seed(dep: DeploymentApp) -> dict[str, dict[str, Any]]:
    """Users, posts referencing users, a file; returns every document by id."""
    db = dep.db
    file_id = dep.files.store([b"hello ", b"file"], "text/plain")
    txn = db.begin()
    users = [txn.insert("users", {"name": f"user{i}", "n": i}) for i in range(5)]
    txn.insert("posts", {"author": users[0], "attachment": file_id, **SPECIAL})
    txn.insert("posts", {"author": users[1], "title": "plain"})
    db.commit(txn)
    snap = db.begin()
    return {d["_id"]: d for t in ("users", "posts", "_storage") for d in snap.table_scan(t)}


def export_zip(dep: DeploymentApp, include_storage: bool = True) -> Path:
    jobs = dep.exports
    jobs.request_export(include_storage)
    done = wait_for(lambda: _finished_export(dep))
    assert done["state"] == "completed", done
    found = jobs.export_file(str(done["start_ts"]))
    assert found is not None
    return found[0]


def _finished_export(dep: DeploymentApp) -> dict[str, Any] | None:
    doc = state.latest_export(dep.db.begin())
    return doc if doc and doc["state"] in ("completed", "failed") else None


def run_import(
    dep: DeploymentApp,
    path: Path,
    mode: str = "requireEmpty",
    fmt: str = "zip",
    table: str | None = None,
    component: str = "",
) -> dict[str, Any]:
    """Upload-equivalent + confirm + wait; returns the final import state."""
    jobs = dep.exports
    copy = jobs.new_upload_file()
    shutil.copyfile(path, copy)
    import_id = jobs.create_import(ImportRequest(copy, fmt, mode, table, component))
    st = wait_for(lambda: _settled(dep, import_id, ("waiting_for_confirmation", "failed")))
    if st["state"] == "failed":
        return st
    jobs.confirm_import(import_id)
    return wait_for(lambda: _settled(dep, import_id, ("completed", "failed")))


def _settled(dep: DeploymentApp, import_id: str, states: tuple[str, ...]) -> dict[str, Any] | None:
    doc = state.get_import(dep.db.begin(), import_id)
    assert doc is not None
    return doc["state"] if doc["state"]["state"] in states else None


def test_zip_layout(new_deployment: Callable[[str], DeploymentApp]) -> None:
    src = new_deployment("src")
    seed(src)
    with zipfile.ZipFile(export_zip(src)) as zf:
        names = set(zf.namelist())
        assert {
            "README.md",
            "_tables/documents.jsonl",
            "users/documents.jsonl",
            "users/generated_schema.jsonl",
            "posts/documents.jsonl",
            "_storage/documents.jsonl",
        } <= names
        tables = [json.loads(x) for x in zf.read("_tables/documents.jsonl").splitlines()]
        assert {t["name"] for t in tables} == {"users", "posts"}
        assert all(t["id"] >= 10001 for t in tables)
        post = next(
            json.loads(x) for x in zf.read("posts/documents.jsonl").splitlines() if b"big" in x
        )
        # Clean JSON, as Convex writes it: int64 as decimal strings, bytes as base64.
        assert post["big"] == str(2**63 - 1)
        assert post["nan"] == "NaN" and post["ninf"] == "-Infinity"
        hints = zf.read("posts/generated_schema.jsonl").splitlines()
        shape = json.loads(hints[0])
        # A Convex-syntax shape: fields that only hold int64 or bytes need no hints...
        assert '"_id": id<' in shape and '"big"?: int64' in shape and '"blob"?: bytes' in shape
        assert '"author": string' in shape and '"nested"?: unknown' in shape
        (hint,) = [json.loads(h)[post["_id"]] for h in hints[1:]]
        # ...while special floats and nested values keep per-document hints.
        assert "big" not in hint and "blob" not in hint
        assert hint["inf"] == "float64inf" and "$float64NaN" in hint["nan"]
        assert hint["nested"] == {
            "list": ["int64", "infer", "bytes", {"deep": "int64"}, "infer", "infer"]
        }
        users_schema = zf.read("users/generated_schema.jsonl").splitlines()
        assert len(users_schema) == 1  # `n` is always int64: the shape alone decodes it
        blobs = [n for n in names if n.startswith("_storage/") and n.endswith(".txt")]
        assert len(blobs) == 1 and zf.read(blobs[0]) == b"hello file"


def test_round_trip_preserves_ids_and_values(
    new_deployment: Callable[[str], DeploymentApp],
) -> None:
    src = new_deployment("src")
    before = seed(src)
    path = export_zip(src)
    dst = new_deployment("dst")
    result = run_import(dst, path)
    assert result == {"state": "completed", "num_rows_written": len(before)}
    snap = dst.db.begin()
    after = {d["_id"]: d for t in ("users", "posts", "_storage") for d in snap.table_scan(t)}
    assert after.keys() == before.keys()
    for doc_id, doc in before.items():
        assert same_value(doc, after[doc_id]), (doc, after[doc_id])
    post = next(d for d in after.values() if "big" in d)
    assert snap.get(post["author"])["name"] == "user0"  # references still resolve
    data = dst.files.read_all(post["attachment"])
    assert data == (b"hello file", "text/plain")


@pytest.mark.parametrize("side", ["source", "target"])
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_round_trip_with_server_databases(
    new_deployment: Callable[..., DeploymentApp],
    request: pytest.FixtureRequest,
    backend: str,
    side: str,
) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    src = new_deployment("src", url if side == "source" else "")
    before = seed(src)
    dst = new_deployment("dst", url if side == "target" else "")
    assert run_import(dst, export_zip(src))["state"] == "completed"
    snap = dst.db.begin()
    for doc_id, doc in before.items():
        assert same_value(doc, snap.get(doc_id))


def test_require_empty_refuses_and_replace_replaces(
    new_deployment: Callable[[str], DeploymentApp],
) -> None:
    src = new_deployment("src")
    before = seed(src)
    path = export_zip(src, include_storage=False)
    txn = src.db.begin()
    extra = txn.insert("users", {"name": "added later"})
    src.db.commit(txn)
    refused = run_import(src, path)
    assert refused["state"] == "failed"
    assert "users already has 6 documents" in refused["error_message"]
    replaced = run_import(src, path, mode="replace")
    assert replaced["state"] == "completed"
    snap = src.db.begin()
    assert snap.get(extra) is None
    users = {d["_id"] for d in snap.table_scan("users")}
    assert users == {i for i, d in before.items() if "n" in d and "name" in d}


def test_append_gives_fresh_ids_to_taken_ones(
    new_deployment: Callable[[str], DeploymentApp],
) -> None:
    src = new_deployment("src")
    seed(src)
    path = export_zip(src, include_storage=False)
    assert run_import(src, path, mode="append")["state"] == "completed"
    snap = src.db.begin()
    assert snap.count("users") == 10
    assert len({d["_id"] for d in snap.table_scan("users")}) == 10


def test_jsonl_and_csv_imports(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    dep = new_deployment("dep")
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"a": 1, "n": {"$integer": "AQAAAAAAAAA="}}\n\n{"a": 2, "s": "x"}\n')
    assert run_import(dep, jsonl, fmt="jsonLines", table="rows")["state"] == "completed"
    docs = sorted(dep.db.begin().table_scan("rows"), key=lambda d: d["a"])
    assert same_value(docs[0]["n"], 1) and docs[1]["s"] == "x" and docs[0]["a"] == 1.0
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("name,age,ok\nann,31,true\nbob,,false\n")
    assert run_import(dep, csv_path, fmt="csv", table="people")["state"] == "completed"
    people = {d["name"]: d for d in dep.db.begin().table_scan("people")}
    assert people["ann"]["age"] == 31.0 and people["ann"]["ok"] is True
    assert "age" not in people["bob"]


@pytest.mark.parametrize(
    ("content", "fmt", "mode", "table", "message"),
    [
        (b"PK\x03\x04 this is not really a zip", "zip", "requireEmpty", None, "not a valid ZIP"),
        (b"", "zip", "requireEmpty", None, "not a valid ZIP"),
        (b'{"a": 1}\n{"a": \n', "jsonLines", "requireEmpty", "t", "line 2: not valid JSON"),
        (b'{"_bad": 1}\n', "jsonLines", "requireEmpty", "t", "reserved for system fields"),
        (b"[1, 2]", "jsonArray", "requireEmpty", "t", "expected a JSON object"),
        (b'{"a": 1}\n', "jsonLines", "sideways", "t", "Unknown import mode 'sideways'"),
        (b'{"a": 1}\n', "jsonLines", "append", None, "needs a table name"),
        (b'{"a": 1}\n', "jsonLines", "append", "_storage", "system table"),
    ],
)
def test_bad_input_fails_clearly(
    new_deployment: Callable[[str], DeploymentApp],
    tmp_path: Path,
    content: bytes,
    fmt: str,
    mode: str,
    table: str | None,
    message: str,
) -> None:
    dep = new_deployment("dep")
    path = tmp_path / "input"
    path.write_bytes(content)
    result = run_import(dep, path, mode=mode, fmt=fmt, table=table)
    assert result["state"] == "failed"
    assert message in result["error_message"]
    assert "t" not in dep.db.table_names()


def test_corrupt_member_fails_clearly(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    src = new_deployment("src")
    seed(src)
    exported = export_zip(src, include_storage=False)
    good = exported.read_bytes()
    # Flip bytes inside the compressed users/documents.jsonl data: CRC or inflate error.
    with zipfile.ZipFile(exported) as zf:
        info = zf.getinfo("users/documents.jsonl")
    name_len, extra_len = struct.unpack(
        "<HH", good[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len + 2
    bad = bytearray(good)
    for i in range(start, start + 8):
        bad[i] ^= 0xFF
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(bad))
    result = run_import(new_deployment("dst"), path)
    assert result["state"] == "failed"
    assert "users/documents.jsonl" in result["error_message"]


def test_export_in_progress_is_refused(new_deployment: Callable[[str], DeploymentApp]) -> None:
    dep = new_deployment("dep")
    seed(dep)
    jobs = dep.exports
    jobs.request_export(False)
    with pytest.raises(state.ExportInProgress):
        jobs.request_export(False)
    wait_for(lambda: _finished_export(dep))
    assert decode_id(state.latest_export(dep.db.begin())["_id"]) is not None


def test_export_fails_if_history_is_collected_under_it(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    dep = new_deployment("dep")
    ids = seed(dep)
    ts = dep.db.latest_ts()

    def collect_meanwhile(message: str) -> None:
        if message == "Backing up posts":  # a later write, then GC past the snapshot
            txn = dep.db.begin()
            txn.patch(next(i for i, d in ids.items() if d.get("name") == "user0"), {"n": 99.0})
            dep.db.commit(txn)
            dep.db.collect_garbage(retention_ns=0)

    with pytest.raises(SnapshotExpired, match="history retention window"):
        write_snapshot(dep.db, ts, tmp_path / "x.zip", blobs=None, progress=collect_meanwhile)
