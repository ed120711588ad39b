"""Clean-JSON decoding guided by Convex's table shapes, as real Convex exports need."""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.exports.cleanjson import context_from_json, context_of, from_clean, to_clean
from dataplane.exports.shapes import ShapeParseError, parse_shape
from dataplane.ids import encode_id
from dataplane.values import ConvexValueError

from .conftest import same_value
from .test_roundtrip import run_import

CONVEX_SHAPE = (
    '{"_creationTime": normalfloat64, "_id": id<10001>, "count": int64, "data"?: bytes, '
    '"tags": array<string>, "meta": {"score": float64 | null}, "mixed": int64 | string, '
    '"byKey": record<string, int64>, "owner": id<10002>}'
)


def test_shape_guides_strings_without_hints() -> None:
    shape = parse_shape(CONVEX_SHAPE)
    raw = {
        "_id": "x",
        "count": "9007199254740993",
        "data": "AAEC",
        "tags": ["1", "2"],
        "meta": {"score": 0.5},
        "mixed": "7",
        "byKey": {"a": "3"},
    }
    doc = from_clean(raw, "infer", (shape,))
    assert doc["count"] == 9007199254740993
    assert doc["data"] == b"\x00\x01\x02"
    assert doc["tags"] == ["1", "2"]
    assert doc["meta"] == {"score": 0.5}
    assert doc["mixed"] == "7"  # ambiguous without a hint: stays a string
    assert doc["byKey"] == {"a": 3}
    hinted = from_clean(raw, context_from_json({"mixed": "int64"}), (shape,))
    assert hinted["mixed"] == 7


def test_special_floats_need_hints_in_float64_columns() -> None:
    shape = parse_shape('{"f": float64}')
    nan = struct.pack("<d", math.nan)
    doc = from_clean({"f": "NaN"}, {"f": ("nan", nan)}, (shape,))
    assert math.isnan(doc["f"])
    assert from_clean({"f": "-Infinity"}, {"f": "float64inf"}, (shape,))["f"] == -math.inf
    assert from_clean({"f": "NaN"}, "infer", (shape,))["f"] == "NaN"


@pytest.mark.parametrize(
    "value",
    [
        2**63 - 1,
        -(2**63),
        b"",
        math.inf,
        -0.0,
        [1, [b"x", {"y": math.nan}], "s"],
        {"a": {"b": {"c": -math.inf}}},
    ],
)
def test_unknown_shape_round_trip(value: object) -> None:
    doc = {"v": value}
    ctx = context_of(doc)
    back = from_clean(json.loads(json.dumps(to_clean(doc))), ctx, (parse_shape("unknown"),))
    assert same_value(back, doc)


@pytest.mark.parametrize("bad", ["{", "array<int64", "{count: int64}", "id<x>", "int64 |", "wat"])
def test_bad_shapes_are_reported(bad: str) -> None:
    with pytest.raises(ShapeParseError):
        parse_shape(bad)


def test_hint_mismatch_is_an_error() -> None:
    with pytest.raises(ConvexValueError, match="not an int64"):
        from_clean({"n": "seven"}, {"n": "int64"}, (parse_shape("unknown"),))


def test_import_of_a_convex_style_export(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    """A ZIP laid out as Convex writes it: real shape line, no hints, ids of table 10001."""
    posts_id = encode_id(10001, os.urandom(16))
    owner_id = encode_id(10002, os.urandom(16))
    path = tmp_path / "convex.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.md", "# Welcome to your Convex snapshot export!\n")
        zf.writestr(
            "_tables/documents.jsonl",
            '{"name":"posts","id":10001}\n{"name":"owners","id":10002}\n',
        )
        zf.writestr("posts/generated_schema.jsonl", json.dumps(CONVEX_SHAPE) + "\n")
        zf.writestr(
            "posts/documents.jsonl",
            json.dumps(
                {
                    "_id": posts_id,
                    "_creationTime": 1700000000000.5,
                    "count": "42",
                    "tags": [],
                    "meta": {"score": None},
                    "mixed": "x",
                    "byKey": {},
                    "owner": owner_id,
                }
            )
            + "\n",
        )
        zf.writestr(
            "owners/generated_schema.jsonl",
            json.dumps('{"_creationTime": normalfloat64, "_id": id<10002>, "name": string}') + "\n",
        )
        zf.writestr(
            "owners/documents.jsonl",
            json.dumps({"_id": owner_id, "_creationTime": 1700000000000.0, "name": "o"}) + "\n",
        )
    dep = new_deployment("dep")
    assert run_import(dep, path)["state"] == "completed"
    snap = dep.db.begin()
    post = snap.get(posts_id)
    assert post is not None and post["count"] == 42 and post["_creationTime"] == 1700000000000.5
    assert snap.get(post["owner"])["name"] == "o"


def test_replace_all_clears_tables_missing_from_the_import(
    new_deployment: Callable[[str], DeploymentApp], tmp_path: Path
) -> None:
    dep = new_deployment("dep")
    txn = dep.db.begin()
    txn.insert("stale", {"x": 1.0})
    txn.insert("kept", {"x": 2.0})
    dep.db.commit(txn)
    rows = tmp_path / "rows.json"
    rows.write_text('[{"x": 3}, {"x": 4}]')
    assert run_import(dep, rows, mode="replaceAll", fmt="jsonArray", table="kept")["state"] == (
        "completed"
    )
    snap = dep.db.begin()
    assert snap.count("stale") == 0
    assert sorted(d["x"] for d in snap.table_scan("kept")) == [3.0, 4.0]
