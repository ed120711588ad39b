"""Snapshot export and import of component tables (Convex's `_components/<name>/` layout)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.exports.importer import SchemaCheck
from dataplane.ids import decode_id, encode_id, new_internal_id
from dataplane.values import ConvexValueError

from .conftest import same_value
from .test_roundtrip import export_zip, run_import

TABLES = ("users", "counter/counts", "ledger/entries", "ledger/counter/counts")
FILE_TABLES = ("_storage", "counter/_storage")


def seed(dep: DeploymentApp) -> dict[str, dict[str, Any]]:
    """The app's table, two components' tables (one nested), a file in the app and one in a
    component, ids referencing inside a component; returns every document by id."""
    db = dep.db
    app_file = dep.files.store([b"app file"], "text/plain")
    component_file = dep.files.store([b"component file"], "text/plain", table="counter/_storage")
    txn = db.begin()
    txn.insert("users", {"name": "ann", "avatar": app_file})
    first = txn.insert("counter/counts", {"name": "a", "value": 1.0, "file": component_file})
    txn.insert("counter/counts", {"name": "b", "value": 2.0, "previous": first})
    txn.insert("ledger/entries", {"text": "one", "amount": 2**40})
    txn.insert("ledger/counter/counts", {"name": "nested", "value": 3.0})
    db.commit(txn)
    snap = db.begin()
    return {d["_id"]: d for t in TABLES + FILE_TABLES for d in snap.table_scan(t)}


def test_export_writes_each_component_with_its_own_tables_and_files(
    new_deployment: Callable[[str], DeploymentApp],
) -> None:
    src = new_deployment("src")
    seed(src)
    with zipfile.ZipFile(export_zip(src)) as zf:
        names = set(zf.namelist())
        root_tables = [json.loads(x)["name"] for x in zf.read("_tables/documents.jsonl").split()]
        counter_tables = [
            json.loads(x)["name"]
            for x in zf.read("_components/counter/_tables/documents.jsonl").split()
        ]
        counter_files = zf.read("_components/counter/_storage/documents.jsonl").splitlines()
        blobs = [
            n
            for n in names
            if n.startswith("_components/counter/_storage/") and not n.endswith(".jsonl")
        ]
    assert root_tables == ["users"]
    assert counter_tables == ["counts"]  # a component's `_storage` is not one of its tables
    assert "_components/ledger/_components/counter/counts/documents.jsonl" in names
    assert "_components/counter/_storage/generated_schema.jsonl" not in names
    assert len(counter_files) == 1
    assert len(blobs) == 1 and blobs[0].endswith(".txt")
    assert not any(n.startswith("_storage/") and "component" in n for n in names)
    assert not any("_scheduled_functions" in n for n in names)


@pytest.mark.parametrize(
    ("backend", "side"),
    [
        ("sqlite", ""),
        pytest.param("postgres", "source", marks=pytest.mark.postgres),
        pytest.param("postgres", "target", marks=pytest.mark.postgres),
        pytest.param("mysql", "source", marks=pytest.mark.mysql),
        pytest.param("mysql", "target", marks=pytest.mark.mysql),
    ],
)
def test_components_round_trip_with_identical_ids_and_files(
    new_deployment: Callable[..., DeploymentApp],
    request: pytest.FixtureRequest,
    backend: str,
    side: str,
) -> None:
    url = "" if backend == "sqlite" else request.getfixturevalue(f"{backend}_url")
    src = new_deployment("src", url if side == "source" else "")
    before = seed(src)
    dst = new_deployment("dst", url if side == "target" else "")
    result = run_import(dst, export_zip(src))
    assert result == {"state": "completed", "num_rows_written": len(before)}, result
    snap = dst.db.begin()
    after = {d["_id"]: d for t in TABLES + FILE_TABLES for d in snap.table_scan(t)}
    assert after.keys() == before.keys()
    for doc_id, doc in before.items():
        assert same_value(doc, after[doc_id]), (doc, after[doc_id])
    src_snap = src.db.begin()
    assert all(snap.table_for_id(i) == src_snap.table_for_id(i) for i in before)
    counts = {d["name"]: d for d in snap.table_scan("counter/counts")}
    assert dst.files.read_all(counts["a"]["file"], "counter/_storage") == (
        b"component file",
        "text/plain",
    )
    user = next(iter(snap.table_scan("users")))
    assert dst.files.read_all(user["avatar"]) == (b"app file", "text/plain")


def _convex_zip(path: Path) -> dict[str, str]:
    """A ZIP as Convex writes it, where every component numbers its tables from 10001 (and
    system tables such as `_scheduled_functions` are present and must be skipped)."""
    ids = {
        "user": encode_id(10001, new_internal_id()),
        "thing1": encode_id(10001, new_internal_id()),
        "thing2": encode_id(10001, new_internal_id()),
        "item": encode_id(10001, new_internal_id()),
        "job": encode_id(3, new_internal_id()),
    }
    entries = {
        "_tables/documents.jsonl": [{"name": "users", "id": 10001}],
        "users/documents.jsonl": [{"_id": ids["user"], "_creationTime": 1.0, "name": "ann"}],
        "_components/c/_tables/documents.jsonl": [{"name": "things", "id": 10001}],
        "_components/c/things/documents.jsonl": [
            {"_id": ids["thing1"], "_creationTime": 2.0, "n": 1},
            {"_id": ids["thing2"], "_creationTime": 3.0, "n": 2, "ref": ids["thing1"]},
        ],
        "_components/c/_scheduled_functions/documents.jsonl": [
            {"_id": ids["job"], "_creationTime": 4.0, "name": "x"}
        ],
        "_components/c/_components/d/_tables/documents.jsonl": [{"name": "items", "id": 10001}],
        "_components/c/_components/d/items/documents.jsonl": [
            {"_id": ids["item"], "_creationTime": 5.0, "label": "deep"}
        ],
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, rows in entries.items():
            zf.writestr(name, "".join(json.dumps(r) + "\n" for r in rows))
    return ids


def test_convex_per_component_table_numbers_are_remapped_per_component(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    dep = new_deployment("dst")
    ids = _convex_zip(tmp_path / "convex.zip")
    result = run_import(dep, tmp_path / "convex.zip")
    assert result == {"state": "completed", "num_rows_written": 4}, result
    snap = dep.db.begin()
    assert [d["_id"] for d in snap.table_scan("users")] == [ids["user"]]
    things = {d["n"]: d for d in snap.table_scan("c/things")}
    numbers = {decode_id(d["_id"]).table_number for d in things.values()}  # type: ignore[union-attr]
    assert numbers == {dep.db.catalog.by_name["c/things"].number} != {10001}
    # the reference inside the component follows its table's new number
    assert things[2.0]["ref"] == things[1.0]["_id"]
    assert decode_id(things[1.0]["_id"]).internal == decode_id(ids["thing1"]).internal  # type: ignore[union-attr]
    (item,) = snap.table_scan("c/d/items")
    assert item["label"] == "deep" and item["_creationTime"] == 5.0
    assert not any("_scheduled_functions" in t for t in dep.db.catalog.by_name if "/" in t)


def test_import_into_a_component(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    dep = new_deployment("dst")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"name": "x", "value": 1}\n{"name": "y", "value": 2}\n')
    done = run_import(dep, rows, fmt="jsonLines", table="counts", component="counter")
    assert done["state"] == "completed", done
    assert sorted(d["name"] for d in dep.db.begin().table_scan("counter/counts")) == ["x", "y"]
    assert "counts" not in dep.db.catalog.by_name
    # A ZIP imported with --component lands below that component, children included.
    _convex_zip(tmp_path / "convex.zip")
    done = run_import(dep, tmp_path / "convex.zip", component="ledger")
    assert done["state"] == "completed", done
    snap = dep.db.begin()
    assert snap.count("ledger/users") == 1 and snap.count("ledger/c/things") == 2
    assert snap.count("ledger/c/d/items") == 1
    bad = run_import(dep, rows, fmt="jsonLines", table="counts", component="../x")
    assert bad["state"] == "failed" and "Invalid component path" in bad["error_message"]


def test_replace_all_clears_every_components_tables(
    new_deployment: Callable[[str], DeploymentApp],
) -> None:
    src = new_deployment("src")
    before = seed(src)
    path = export_zip(src, include_storage=False)
    dst = new_deployment("dst")
    txn = dst.db.begin()
    txn.insert("extra", {"x": 1.0})
    txn.insert("other/stuff", {"y": 2.0})
    txn.insert("counter/counts", {"name": "stale", "value": 0.0})
    dst.db.commit(txn)
    refused = run_import(dst, path)
    assert refused["state"] == "failed"
    assert "Table counter/counts already has 1 documents" in refused["error_message"]
    done = run_import(dst, path, mode="replaceAll")
    assert done["state"] == "completed", done
    snap = dst.db.begin()
    assert snap.count("extra") == 0 and snap.count("other/stuff") == 0
    # The tables made here first hold the exported numbers, so ids move to the new numbers;
    # the documents themselves are the exported ones, and only those.
    src_snap = src.db.begin()
    for table in TABLES:
        assert snap.count(table) == src_snap.count(table), table
    names = sorted(d["name"] for d in snap.table_scan("counter/counts"))
    assert names == ["a", "b"]  # "stale" is gone
    counts = {d["name"]: d for d in snap.table_scan("counter/counts")}
    assert counts["b"]["previous"] == counts["a"]["_id"]  # references follow the new number
    assert len(before) == sum(src_snap.count(t) for t in (*TABLES, *FILE_TABLES))


def test_schema_check_follows_each_components_schema() -> None:
    string_field = {"type": "object", "value": {"s": {"fieldType": {"type": "string"}}}}
    merged = {
        "tables": [
            {"tableName": "notes", "documentType": string_field},
            {"tableName": "counter/counts", "documentType": string_field},
        ],
        "schemaValidation": True,
        "componentValidation": {"": True, "counter": True, "loose": False},
    }
    check = SchemaCheck(merged)
    check("notes", {"s": "ok"})
    check("counter/counts", {"s": "ok"})
    check("loose/anything", {"s": 1.0})  # validation off in that component
    check("unschemed/anything", {"s": 1.0})  # a component without a schema
    with pytest.raises(ConvexValueError, match="does not match the schema"):
        check("counter/counts", {"s": 1.0})
    with pytest.raises(ConvexValueError, match="counter/other is not declared"):
        check("counter/other", {"s": "x"})
    with pytest.raises(ConvexValueError, match="drafts is not declared"):
        check("drafts", {"s": "x"})
