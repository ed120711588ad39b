"""Streaming export over the real engine (SQLite and Postgres): snapshot pages at one
timestamp, deltas in commit order with deletes, whole commits per page, collected history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataplane.exports.streaming import StreamingError, StreamingExport, validator_schema
from dataplane.transactions import Database, HistoryCollected, Transaction, open_database


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    else:
        url = request.getfixturevalue(f"{request.param}_url")
    database = open_database(url, gc_interval_s=0)
    try:
        yield database
    finally:
        database.close()


def insert(db: Database, table: str, docs: list[dict[str, Any]]) -> list[str]:
    def write(txn: Transaction) -> list[str]:
        return [txn.insert(table, dict(doc)) for doc in docs]

    ids, _ = db.run_mutation(write)
    return ids


def walk_snapshot(
    stream: StreamingExport, table: str | None = None, after_first: Any = None
) -> tuple[list[dict[str, Any]], int, int]:
    """Every value of one snapshot; returns (values, snapshot ts, pages)."""
    page = stream.list_snapshot(None, None, table)
    values, pages = list(page.values), 1
    if after_first is not None:
        after_first()
    while page.has_more:
        page = stream.list_snapshot(page.snapshot, page.cursor, table)
        values += page.values
        pages += 1
    return values, page.snapshot, pages


def test_snapshot_is_one_timestamp_and_deltas_follow_it(db: Database) -> None:
    users = insert(db, "users", [{"name": f"u{i}", "n": i} for i in range(25)])
    posts = insert(db, "posts", [{"title": f"p{i}"} for i in range(7)])
    stream = StreamingExport(db, lambda: None, page_rows=4)
    late: dict[str, Any] = {}

    def write_during_snapshot() -> None:
        late["new"] = insert(db, "users", [{"name": "late"}])[0]
        db.run_mutation(lambda txn: txn.patch(users[20], {"name": "patched"}))
        db.run_mutation(lambda txn: txn.delete(posts[6]))

    values, snapshot, pages = walk_snapshot(stream, after_first=write_during_snapshot)
    assert pages >= 8  # 32 documents, at most 4 per page
    assert sorted(v["_id"] for v in values) == sorted(users + posts)  # each exactly once
    by_id = {v["_id"]: v for v in values}
    assert by_id[users[20]]["name"] == "u20" and by_id[users[20]]["_table"] == "users"
    assert all(v["_ts"] <= snapshot for v in values)

    deltas = stream.document_deltas(snapshot, None)
    assert not deltas.has_more and deltas.cursor == db.latest_ts()
    assert [(v["_id"], v.get("name"), v.get("_deleted", False)) for v in deltas.values] == [
        (late["new"], "late", False),
        (users[20], "patched", False),
        (posts[6], None, True),
    ]
    assert deltas.values[2] == {
        "_id": posts[6],
        "_ts": deltas.values[2]["_ts"],
        "_table": "posts",
        "_component": "",
        "_deleted": True,
    }
    assert [v["_ts"] for v in deltas.values] == sorted(v["_ts"] for v in deltas.values)
    # Per table, and nothing more after the returned cursor.
    only_posts = stream.document_deltas(snapshot, "posts")
    assert [v["_id"] for v in only_posts.values] == [posts[6]]
    again = stream.document_deltas(deltas.cursor, None)
    assert again.values == [] and again.cursor == deltas.cursor and not again.has_more


def test_one_table_snapshot_pages(db: Database) -> None:
    users = insert(db, "users", [{"n": i} for i in range(10)])
    insert(db, "other", [{"x": 1}])
    stream = StreamingExport(db, lambda: None, page_rows=3)
    values, _, pages = walk_snapshot(stream, "users")
    assert pages == 4 and sorted(v["_id"] for v in values) == sorted(users)
    with pytest.raises(StreamingError, match="does not exist"):
        stream.list_snapshot(None, None, "missing")
    with pytest.raises(StreamingError, match="Invalid snapshot cursor"):
        stream.list_snapshot(None, "garbage", "users")


def test_deltas_return_whole_commits(db: Database) -> None:
    start = insert(db, "t", [{"i": -1}])  # creates the table before the cursor
    cursor = db.latest_ts()
    big = insert(db, "t", [{"i": i} for i in range(10)])  # one commit, bigger than a page
    singles = [insert(db, "t", [{"i": 100 + i}])[0] for i in range(5)]
    stream = StreamingExport(db, lambda: None, delta_rows=4)
    pages: list[list[str]] = []
    has_more = True
    while has_more:
        page = stream.document_deltas(cursor, "t")
        pages.append([v["_id"] for v in page.values])
        cursor, has_more = page.cursor, page.has_more
    assert sorted(pages[0]) == sorted(big)  # the whole commit, though above delta_rows
    assert [i for p in pages[1:] for i in p] == singles
    assert all(len(p) <= 4 for p in pages[1:])
    assert cursor == db.latest_ts() and start[0] not in [i for p in pages for i in p]


def test_collected_history_is_refused(db: Database) -> None:
    insert(db, "t", [{"i": 1}])
    old = db.latest_ts()
    insert(db, "t", [{"i": 2}])
    stream = StreamingExport(db, lambda: None)
    assert len(stream.document_deltas(old, "t").values) == 1
    db.collect_garbage(retention_ns=0)
    with pytest.raises(HistoryCollected, match="older than the retained history"):
        stream.document_deltas(old, "t")
    with pytest.raises(HistoryCollected):
        stream.list_snapshot(old, None, "t")
    with pytest.raises(HistoryCollected):
        stream.list_snapshot(old, "~", None)  # even past the last table
    # A fresh snapshot and the deltas after it still work.
    values, snapshot, _ = walk_snapshot(stream, "t")
    assert len(values) == 2
    assert stream.document_deltas(snapshot, "t").values == []


def test_json_schemas_from_validators_and_inference(db: Database) -> None:
    insert(db, "typed", [{"name": "a", "age": 3.0}])
    insert(db, "loose", [{"a": "x", "b": 1}, {"a": None, "c": [1.0], "d": {"e": True}}])
    schema = {
        "tables": [
            {
                "tableName": "typed",
                "documentType": {
                    "type": "object",
                    "value": {
                        "name": {"fieldType": {"type": "string"}, "optional": False},
                        "age": {"fieldType": {"type": "number"}, "optional": True},
                        "owner": {
                            "fieldType": {"type": "id", "tableName": "loose"},
                            "optional": True,
                        },
                    },
                },
            }
        ]
    }
    stream = StreamingExport(db, lambda: schema)
    schemas = stream.json_schemas(delta=True)
    assert sorted(schemas) == ["loose", "typed"]
    typed = schemas["typed"]
    assert typed["properties"]["name"] == {"type": "string"}
    assert typed["properties"]["owner"]["type"] == "string"
    assert typed["required"] == ["_creationTime", "_id", "name"]
    assert typed["properties"]["_ts"] == {"type": "integer"}
    loose = schemas["loose"]["properties"]
    assert loose["a"] == {"type": ["null", "string"]}
    assert loose["b"] == {"type": "string"}  # int64 is a decimal string in the json format
    assert loose["c"] == {"type": "array"} and loose["d"] == {"type": "object"}
    assert "_deleted" not in stream.json_schemas(delta=False)["loose"]["properties"]


def test_validator_schemas() -> None:
    union = {"type": "union", "value": [{"type": "literal", "value": "a"}, {"type": "null"}]}
    assert validator_schema(union) == {"anyOf": [{"const": "a"}, {"type": "null"}]}
    record = {
        "type": "record",
        "keys": {"type": "string"},
        "values": {"fieldType": {"type": "bigint"}},
    }
    assert validator_schema(record)["additionalProperties"]["type"] == "string"
    assert validator_schema({"type": "array", "value": {"type": "bytes"}})["items"]["type"] == (
        "string"
    )


def test_snapshot_pages_are_bounded_in_bytes(db: Database) -> None:
    """Big documents end a page before the row limit (a page never holds the table)."""
    big = "x" * (900 * 1024)
    ids = [insert(db, "blobs", [{"s": big, "i": i}])[0] for i in range(12)]
    stream = StreamingExport(db, lambda: None)  # 1000 rows per page, about 8 MiB
    page = stream.list_snapshot(None, None, "blobs")
    assert page.has_more and 0 < len(page.values) < 12
    values, _, pages = walk_snapshot(stream, "blobs")
    assert pages >= 2 and sorted(v["_id"] for v in values) == sorted(ids)


def test_delta_pages_are_bounded_in_bytes(db: Database) -> None:
    insert(db, "blobs", [{"i": -1}])
    cursor = db.latest_ts()
    big = "x" * (900 * 1024)
    ids = [insert(db, "blobs", [{"s": big, "i": i}])[0] for i in range(12)]
    stream = StreamingExport(db, lambda: None)  # 1000 versions per page, about 8 MiB
    seen: list[str] = []
    pages = 0
    has_more = True
    while has_more:
        page = stream.document_deltas(cursor, "blobs")
        assert len(page.values) < 12
        seen += [v["_id"] for v in page.values]
        cursor, has_more, pages = page.cursor, page.has_more, pages + 1
    assert seen == ids and pages >= 2


def test_component_tables_are_exported_with_their_component(db: Database) -> None:
    users = insert(db, "users", [{"name": "ann"}])
    counts = insert(db, "counter/counts", [{"name": "a", "value": 1.0}])
    nested = insert(db, "ledger/counter/counts", [{"name": "b", "value": 2.0}])
    insert(db, "counter/_storage", [{"sha256": "x", "size": 1.0}])  # never exported
    stream = StreamingExport(db, lambda: None, page_rows=2)
    values, snapshot, _ = walk_snapshot(stream)
    labels = {v["_id"]: (v["_component"], v["_table"]) for v in values}
    assert labels == {
        users[0]: ("", "users"),
        counts[0]: ("counter", "counts"),
        nested[0]: ("ledger/counter", "counts"),
    }
    # One table of a component; one component's tables; the app's table by default.
    page = stream.list_snapshot(None, None, "counts", "ledger/counter")
    assert [v["_id"] for v in page.values] == nested and not page.has_more
    page = stream.list_snapshot(None, None, None, "counter")
    assert [v["_id"] for v in page.values] == counts
    # The app has no `counts`: as on Convex, that selects nothing (connectors ask for every
    # name json_schemas lists, without a component); a name no component has is an error.
    empty = stream.list_snapshot(None, None, "counts", None)
    assert empty.values == [] and not empty.has_more
    assert stream.document_deltas(snapshot, "counts").values == []
    with pytest.raises(StreamingError, match="does not exist"):
        stream.list_snapshot(None, None, "nowhere", "counter")
    with pytest.raises(StreamingError, match="does not exist"):
        stream.list_snapshot(None, None, "_storage", "counter")

    db.run_mutation(lambda txn: txn.patch(nested[0], {"value": 3.0}))
    db.run_mutation(lambda txn: txn.delete(counts[0]))
    insert(db, "counter/_storage", [{"sha256": "y", "size": 2.0}])
    everything = stream.document_deltas(snapshot, None)
    assert [
        (v["_component"], v["_table"], v.get("_deleted", False)) for v in everything.values
    ] == [
        ("ledger/counter", "counts", False),
        ("counter", "counts", True),
    ]
    only_counter = stream.document_deltas(snapshot, None, "counter")
    assert [v["_id"] for v in only_counter.values] == counts
    assert only_counter.cursor == everything.cursor
    one_table = stream.document_deltas(snapshot, "counts", "ledger/counter")
    assert [v["_id"] for v in one_table.values] == nested

    schemas = stream.json_schemas(delta=True, by_component=True)
    assert set(schemas) == {"", "counter", "ledger/counter"}
    assert set(schemas["counter"]) == {"counts"}
    assert schemas["counter"]["counts"]["properties"]["_component"] == {"type": "string"}
    insert(db, "counts", [{"root": True}])
    flat = stream.json_schemas(delta=False)
    assert set(flat) == {"users", "counts"}
    assert "root" in flat["counts"]["properties"]  # the app's table wins a name clash


def test_inferred_schemas_are_kept_until_the_table_is_written(db: Database) -> None:
    insert(db, "loose", [{"a": "x"} for _ in range(50)])
    insert(db, "other", [{"b": 1.0}])
    stream = StreamingExport(db, lambda: None)
    first = stream.json_schemas(delta=True)
    assert stream.inferred.computed == 2
    again = stream.json_schemas(delta=False)
    assert stream.inferred.computed == 2  # neither table was read again
    assert again["loose"]["properties"].keys() == {"_id", "_creationTime", "a"}
    assert "_ts" in first["loose"]["properties"]  # the delta fields did not leak into the cache
    insert(db, "loose", [{"a": "y", "new": 5.0}])
    after = stream.json_schemas(delta=False)
    assert stream.inferred.computed == 3  # only the written table was inferred again
    assert after["loose"]["properties"]["new"] == {"type": "number"}
    assert after["loose"]["required"] == ["_creationTime", "_id", "a"]
    db.run_mutation(lambda txn: txn.delete(next(iter(txn.table_scan("other")))["_id"]))
    assert "b" not in stream.json_schemas(delta=False)["other"]["properties"]
    assert stream.inferred.computed == 4
