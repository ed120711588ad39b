"""Document CRUD, snapshots, index scans and persistence, on SQLite and Postgres."""

from __future__ import annotations

import os
from typing import Any

import pytest

from dataplane.ids import decode_id
from dataplane.transactions import (
    Database,
    DatabaseError,
    DocumentNotFound,
    IndexDefinition,
    IndexNotFound,
    InvalidIdError,
    OccConflict,
    SchemaError,
    Transaction,
    TransactionLimitError,
    WriteLogTruncated,
    open_database,
)
from dataplane.transactions.transaction import Order
from dataplane.values import UNDEFINED, ConvexValueError, to_json


def _eq(field: str, value: Any) -> dict[str, Any]:
    return {"type": "Eq", "fieldPath": field, "value": to_json(value)}


def _insert(db: Database, table: str, *docs: dict[str, Any]) -> list[str]:
    ids, _ = db.run_mutation(lambda tx: [tx.insert(table, d) for d in docs])
    return ids


def test_insert_get_system_fields(db: Database) -> None:
    before = db.latest_ts()
    (doc_id,) = _insert(db, "messages", {"body": "hi", "n": 7, "raw": b"\x01", "f": 1.5})
    assert db.latest_ts() > before
    doc = db.begin().get(doc_id)
    assert doc is not None
    assert doc["_id"] == doc_id and isinstance(doc["_creationTime"], float)
    assert (doc["body"], doc["n"], doc["raw"], doc["f"]) == ("hi", 7, b"\x01", 1.5)
    assert type(doc["n"]) is int
    parts = decode_id(doc_id)
    assert parts is not None and parts.table_number == db.catalog.by_name["messages"].number
    assert db.table_names() == ["messages"]


def test_replace_patch_delete(db: Database) -> None:
    (doc_id,) = _insert(db, "t", {"a": 1.0, "b": 2.0})
    created = db.begin().get(doc_id)
    assert created is not None

    def edit(tx: Transaction) -> None:
        tx.patch(doc_id, {"b": UNDEFINED, "c": "new"})

    db.run_mutation(edit)
    doc = db.begin().get(doc_id)
    assert doc == {"_id": doc_id, "_creationTime": created["_creationTime"], "a": 1.0, "c": "new"}
    db.run_mutation(lambda tx: tx.replace(doc_id, {"z": True}))
    doc = db.begin().get(doc_id)
    assert doc == {"_id": doc_id, "_creationTime": created["_creationTime"], "z": True}
    db.run_mutation(lambda tx: tx.delete(doc_id))
    assert db.begin().get(doc_id) is None
    with pytest.raises(DocumentNotFound, match=doc_id):
        db.run_mutation(lambda tx: tx.patch(doc_id, {"a": 1.0}))


def test_bad_input_errors(db: Database) -> None:
    tx = db.begin()
    with pytest.raises(InvalidIdError, match="not a valid document ID"):
        tx.get("nope")
    with pytest.raises(ConvexValueError, match="System field `_id`"):
        tx.insert("t", {"_id": "x"})
    with pytest.raises(ConvexValueError, match="reserved for system fields"):
        tx.insert("t", {"_foo": 1.0})
    with pytest.raises(SchemaError, match="Invalid table name"):
        tx.insert("bad-name", {"a": 1.0})
    with pytest.raises(IndexNotFound, match=r"t\.by_nothing"):
        list(tx.index_scan("t", "by_nothing", []))
    (doc_id,) = _insert(db, "t", {"a": 1.0})
    with pytest.raises(ConvexValueError, match="system field `_creationTime`"):
        db.run_mutation(lambda tx: tx.patch(doc_id, {"_creationTime": 5.0}))


def test_snapshot_isolation_and_history(db: Database) -> None:
    (doc_id,) = _insert(db, "t", {"v": 1.0})
    ts1 = db.latest_ts()
    db.run_mutation(lambda tx: tx.patch(doc_id, {"v": 2.0}))
    reader = db.begin(ts1)
    db.run_mutation(lambda tx: tx.patch(doc_id, {"v": 3.0}))
    assert reader.get(doc_id)["v"] == 1.0  # type: ignore[index]
    assert [d["v"] for d in reader.table_scan("t")] == [1.0]
    assert db.begin().get(doc_id)["v"] == 3.0  # type: ignore[index]
    db.run_mutation(lambda tx: tx.delete(doc_id))
    assert db.begin(ts1).get(doc_id) is not None
    assert list(db.begin().table_scan("t")) == []
    assert db.begin(ts1).count("t") == 1 and db.begin().count("t") == 0


def test_read_your_own_writes_in_scans(db: Database) -> None:
    db.set_indexes("t", [IndexDefinition("by_n", ["n"])])
    a, b, c = _insert(db, "t", {"n": 1.0}, {"n": 3.0}, {"n": 5.0})
    tx = db.begin()
    d = tx.insert("t", {"n": 4.0})
    tx.patch(a, {"n": 6.0})
    tx.delete(b)
    asc = [(x["_id"], x["n"]) for x in tx.index_scan("t", "by_n", [])]
    assert asc == [(d, 4.0), (c, 5.0), (a, 6.0)]
    desc = [x["n"] for x in tx.index_scan("t", "by_n", [], "desc")]
    assert desc == [6.0, 5.0, 4.0]
    assert tx.count("t") == 3
    assert tx.get(b) is None and tx.get(d)["n"] == 4.0  # type: ignore[index]
    db.commit(tx)
    assert [x["n"] for x in db.begin().index_scan("t", "by_n", [])] == [4.0, 5.0, 6.0]


def test_index_ranges_both_orders_and_paging(db: Database) -> None:
    db.set_indexes("m", [IndexDefinition("by_ch_n", ["ch", "n"])])
    docs = [{"ch": ch, "n": float(n)} for ch in ("a", "b", "c") for n in range(70)]
    _insert(db, "m", *docs)
    # many versions of some documents must not disturb paging
    tx = db.begin()
    some = [x["_id"] for x in tx.index_scan("m", "by_ch_n", [_eq("ch", "b")])][:20]
    for round_ in range(3):

        def touch(t: Transaction, r: int = round_) -> None:
            for i in some:
                t.patch(i, {"extra": float(r)})

        db.run_mutation(touch)
    tx = db.begin()
    rng = [
        _eq("ch", "b"),
        {"type": "Gte", "fieldPath": "n", "value": 10.0},
        {"type": "Lt", "fieldPath": "n", "value": 60.0},
    ]
    asc = [x["n"] for x in tx.index_scan("m", "by_ch_n", rng, "asc")]
    assert asc == [float(n) for n in range(10, 60)]
    desc = [x["n"] for x in tx.index_scan("m", "by_ch_n", rng, "desc")]
    assert desc == asc[::-1]
    everything = list(tx.index_scan("m", "by_ch_n", []))
    assert [(x["ch"], x["n"]) for x in everything] == [(d["ch"], d["n"]) for d in docs]
    by_time = [x["_creationTime"] for x in tx.table_scan("m", "desc")]
    assert by_time == sorted(by_time, reverse=True) and len(by_time) == 210
    assert [x["n"] for x in tx.index_scan("m", "by_ch_n", [_eq("ch", "zzz")])] == []


def test_missing_field_sorts_first_and_mixed_types(db: Database) -> None:
    db.set_indexes("t", [IndexDefinition("by_v", ["v"])])
    _insert(db, "t", {"v": "s"}, {"v": 2}, {}, {"v": None}, {"v": 1.0}, {"v": True}, {"v": b"b"})
    got = [x.get("v", "<missing>") for x in db.begin().index_scan("t", "by_v", [])]
    assert got == ["<missing>", None, 2, 1.0, True, "s", b"b"]


def test_lazy_scan_records_only_what_was_read(db: Database) -> None:
    db.set_indexes("t", [IndexDefinition("by_n", ["n"])])
    _insert(db, "t", *({"n": float(n)} for n in range(100)))
    reader = db.begin()
    it = reader.index_scan("t", "by_n", [])
    first = [next(it)["n"] for _ in range(3)]
    assert first == [0.0, 1.0, 2.0]
    # a write far beyond what was read does not conflict; one inside does
    _insert(db, "t", {"n": 50.5})
    record_far = db.commits_since(reader.snapshot_ts)[-1]
    assert not reader.read_set.overlaps(record_far)
    _insert(db, "t", {"n": 1.5})
    record_near = db.commits_since(reader.snapshot_ts)[-1]
    assert reader.read_set.overlaps(record_near)


def test_set_indexes_backfills_and_drops(db: Database) -> None:
    _insert(db, "t", {"k": "b"}, {"k": "a"})
    db.set_indexes("t", [IndexDefinition("by_k", ["k"])])
    assert [x["k"] for x in db.begin().index_scan("t", "by_k", [])] == ["a", "b"]
    assert db.indexes("t") == [IndexDefinition("by_k", ("k",))]
    db.set_indexes("t", [])
    with pytest.raises(IndexNotFound):
        list(db.begin().index_scan("t", "by_k", []))
    with pytest.raises(SchemaError, match="reserved"):
        db.set_indexes("t", [IndexDefinition("by_id", ["k"])])
    with pytest.raises(SchemaError, match="_creationTime"):
        db.set_indexes("t", [IndexDefinition("by_c", ["_creationTime"])])


def test_normalize_id_and_table_for_id(db: Database) -> None:
    (a,) = _insert(db, "a", {"x": 1.0})
    _insert(db, "b", {"x": 1.0})
    tx = db.begin()
    assert tx.normalize_id("a", a) == a
    assert tx.normalize_id("b", a) is None
    assert tx.normalize_id("a", "garbage") is None
    assert tx.table_for_id(a) == "a"


def test_restart_keeps_data_indexes_and_monotonic_ts(db_url: str) -> None:
    db = open_database(db_url)
    db.set_indexes("t", [IndexDefinition("by_k", ["k"])])
    (doc_id,) = _insert(db, "t", {"k": "x"})
    last = db.latest_ts()
    db.close()
    db = open_database(db_url)
    try:
        assert db.latest_ts() >= last
        assert db.begin().get(doc_id)["k"] == "x"  # type: ignore[index]
        assert [x["_id"] for x in db.begin().index_scan("t", "by_k", [_eq("k", "x")])] == [doc_id]
        _, ts = db.run_mutation(lambda tx: tx.insert("t", {"k": "y"}))
        assert ts > last
    finally:
        db.close()


def test_commit_listeners_and_commits_since(db: Database) -> None:
    seen: list[int] = []
    db.set_indexes("t", [])
    db.add_commit_listener(lambda record: seen.append(record.ts))
    start = db.latest_ts()
    (a,) = _insert(db, "t", {"x": 1.0})
    db.run_mutation(lambda tx: tx.delete(a))
    records = db.commits_since(start)
    assert [r.ts for r in records] == seen and len(seen) == 2 and seen[0] < seen[1]
    assert records[0].writes[0].doc_id == a and records[0].writes[0].value is not None
    assert records[1].writes[0].value is None
    assert db.commits_since(seen[1]) == []


def test_read_only_transaction_commits_at_snapshot(db: Database) -> None:
    _insert(db, "t", {"x": 1.0})
    tx = db.begin()
    list(tx.table_scan("t"))
    assert db.commit(tx) == tx.snapshot_ts


def test_missing_table_reads_are_invalidated_by_creation(db: Database) -> None:
    reader = db.begin()
    assert list(reader.table_scan("later")) == []
    assert reader.count("later") == 0
    _insert(db, "later", {"x": 1.0})
    assert reader.read_set.overlaps(db.commits_since(reader.snapshot_ts)[-1])


def test_undefined_fields_are_dropped_on_insert(db: Database) -> None:
    (doc_id,) = _insert(db, "t", {"a": 1.0, "gone": UNDEFINED})
    doc = db.begin().get(doc_id)
    assert doc is not None and "gone" not in doc and doc["a"] == 1.0


def test_second_committer_is_refused(db_url: str) -> None:
    first = open_database(db_url)
    try:
        with pytest.raises(DatabaseError, match="already open for writing"):
            open_database(db_url)
    finally:
        first.close()
    open_database(db_url).close()  # released on close


def test_write_log_truncation(db_url: str) -> None:
    db = open_database(db_url, write_log_capacity=3)
    try:
        (acct,) = _insert(db, "t", {"v": 0.0})
        stale = db.begin()
        assert stale.get(acct) is not None
        stale.patch(acct, {"v": 1.0})
        stamps = [db.run_mutation(lambda tx: tx.insert("other", {}))[1] for _ in range(4)]
        with pytest.raises(WriteLogTruncated):
            db.commits_since(stale.snapshot_ts)
        assert [r.ts for r in db.commits_since(stamps[0])] == stamps[1:]
        with pytest.raises(OccConflict, match="older than the write log"):
            db.commit(stale)
    finally:
        db.close()


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_keyed_scan_pagination(db: Database, order: Order) -> None:
    db.set_indexes("t", [IndexDefinition("by_n", ["n"])])
    _insert(db, "t", *({"n": float(n)} for n in range(50)))
    tx = db.begin()
    pages: list[list[float]] = []
    cursor = None
    while True:
        it = tx.index_scan_keyed("t", "by_n", [], order, start_after=cursor)
        page = [next(it, None) for _ in range(7)]
        got = [p for p in page if p is not None]
        if not got:
            break
        pages.append([d["n"] for _, d in got])
        cursor = got[-1][0]
    flat = [n for p in pages for n in p]
    expected = [float(n) for n in range(50)]
    assert flat == (expected if order == "asc" else expected[::-1])
    # re-running a page pinned between two cursors returns exactly that page
    first = list(tx.index_scan_keyed("t", "by_n", [], order))
    pinned = tx.index_scan_keyed(
        "t",
        "by_n",
        [],
        order,
        start_after=first[6][0],
        end_at=first[13][0],
    )
    assert [d["n"] for _, d in pinned] == [d["n"] for _, d in first[7:14]]


def test_read_range_limit(db: Database) -> None:
    (doc_id,) = _insert(db, "t", {})
    tx = db.begin()
    with pytest.raises(TransactionLimitError, match="4096"):
        for _ in range(4097):
            tx.get(doc_id)


def test_stored_values_roundtrip_exactly(db: Database) -> None:
    import math

    value = {
        "f": 5.0,
        "big": 1e300,
        "i": 5,
        "neg0": -0.0,
        "inf": math.inf,
        "s": '"$not special"',
        "nested": {"l": [1.0, 2, b"\x00"]},
    }
    (doc_id,) = _insert(db, "t", value)
    (plain_id,) = _insert(db, "t", {"f": 5.0, "l": [1.0, 2.5]})
    tx = db.begin()
    got = tx.get(doc_id)
    assert got is not None
    assert type(got["f"]) is float and type(got["i"]) is int
    assert math.copysign(1, got["neg0"]) == -1 and got["inf"] == math.inf
    assert got["s"] == value["s"] and got["nested"] == value["nested"]
    assert type(got["nested"]["l"][1]) is int
    plain = tx.get(plain_id)
    assert plain is not None and type(plain["f"]) is float and plain["l"] == [1.0, 2.5]


def test_schema_changes_leave_records_in_the_log(db: Database) -> None:
    start = db.latest_ts()
    db.set_indexes("t", [IndexDefinition("by_a", ["a"])])
    records = db.commits_since(start)
    assert records and records[-1].ts == db.latest_ts()
    assert all(r.writes == () and r.tables == frozenset({"t"}) for r in records)


def test_garbage_collection_keeps_latest_state(db_url: str) -> None:
    db = open_database(db_url, gc_interval_s=0)
    try:
        db.set_indexes("t", [IndexDefinition("by_v", ["v"])])
        hot, gone, moved = _insert(db, "t", {"v": 0.0}, {"v": -1.0}, {"v": 100.0})
        old_ts = db.latest_ts()
        for i in range(1, 30):

            def bump(tx: Transaction, i: int = i) -> None:
                tx.patch(hot, {"v": float(i)})

            db.run_mutation(bump)
        db.run_mutation(lambda tx: tx.delete(gone))
        db.run_mutation(lambda tx: tx.patch(moved, {"v": 50.0}))
        before = [(d["_id"], d["v"]) for d in db.begin().index_scan("t", "by_v", [])]
        assert db.collect_garbage(retention_ns=0, chunk_rows=3) > 30  # many tiny chunks
        assert db.collect_garbage(retention_ns=0) == 0
        tx = db.begin()
        assert [(d["_id"], d["v"]) for d in tx.index_scan("t", "by_v", [])] == before
        assert [d["v"] for d in tx.table_scan("t")] == [29.0, 50.0]
        assert tx.get(gone) is None and tx.count("t") == 2
        with pytest.raises(DatabaseError, match="collected"):
            db.begin(old_ts)
        db.run_mutation(lambda tx: tx.patch(hot, {"v": 99.0}))
        assert db.begin().get(hot)["v"] == 99.0  # type: ignore[index]
    finally:
        db.close()
    db = open_database(db_url, gc_interval_s=0)
    try:
        with pytest.raises(DatabaseError, match="collected"):
            db.begin(old_ts)
        assert db.begin().count("t") == 2
    finally:
        db.close()


def test_cached_reads_respect_snapshots(db: Database) -> None:
    (a,) = _insert(db, "t", {"v": 1.0})
    early = db.begin()
    first = early.get(a)
    assert first is not None and first["v"] == 1.0
    first["v"] = 666.0  # callers get private copies, never the cached value
    assert db.begin().get(a)["v"] == 1.0  # type: ignore[index]
    db.run_mutation(lambda tx: tx.patch(a, {"v": 2.0}))
    assert early.get(a)["v"] == 1.0  # type: ignore[index]
    assert db.begin().get(a)["v"] == 2.0  # type: ignore[index]
    middle = db.begin()
    db.run_mutation(lambda tx: tx.delete(a))
    assert db.begin().get(a) is None
    assert middle.get(a)["v"] == 2.0  # type: ignore[index]
    assert early.get(a)["v"] == 1.0  # type: ignore[index]


def test_savepoint_rollback(db: Database) -> None:
    (a,) = _insert(db, "t", {"v": 1.0})
    tx = db.begin()
    tx.patch(a, {"v": 2.0})
    sp = tx.savepoint()
    b = tx.insert("t", {"v": 3.0})
    tx.patch(a, {"v": 4.0})
    tx.rollback_to(sp)
    assert tx.get(b) is None and tx.get(a)["v"] == 2.0  # type: ignore[index]
    assert tx.documents_written == 1
    db.commit(tx)
    assert [d["v"] for d in db.begin().table_scan("t")] == [2.0]


def _range(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"type": op, "fieldPath": field, "value": to_json(value)}


def test_ranges_may_bound_the_trailing_id(db: Database) -> None:
    """Every index ends with `_id`, so a page can resume after (…, _creationTime, _id), as
    convex-helpers' streams and the migrations component do."""
    db.set_indexes("p", [IndexDefinition("by_ch", ["ch"])])
    _insert(db, "p", {"ch": "a", "n": -1.0})

    def tied(t: Transaction) -> None:  # imported documents may share a creation time
        meta = t.db.catalog.by_name["p"]
        for n in range(6):
            t.stage_insert(meta, os.urandom(16), {"_creationTime": 5.0, "ch": "a", "n": float(n)})

    db.run_mutation(tied)
    tx = db.begin()
    resumed = 0
    for index, prefix in (("by_creation_time", []), ("by_ch", [_eq("ch", "a")])):
        docs = list(tx.index_scan("p", index, prefix))
        for order in ("asc", "desc"):
            ordered = docs if order == "asc" else docs[::-1]
            for i, doc in enumerate(ordered):
                ct, after = doc["_creationTime"], "Gt" if order == "asc" else "Lt"
                exprs = [*prefix, _eq("_creationTime", ct), _range("_id", after, doc["_id"])]
                same_ts = [d["_id"] for d in ordered[i + 1 :] if d["_creationTime"] == ct]
                got = [d["_id"] for d in tx.index_scan("p", index, exprs, order)]
                assert got == same_ts
                resumed += len(got)
            one = [_eq("_creationTime", ordered[0]["_creationTime"]), _eq("_id", ordered[0]["_id"])]
            assert [d["_id"] for d in tx.index_scan("p", index, [*prefix, *one])] == [
                ordered[0]["_id"]
            ]
    assert resumed == 2 * 2 * (5 + 4 + 3 + 2 + 1)  # both indexes, both orders, 6 tied docs
    with pytest.raises(ConvexValueError, match="not an id"):
        list(tx.index_scan("p", "by_creation_time", [_eq("_creationTime", 1.0), _eq("_id", "x")]))
    with pytest.raises(ConvexValueError, match="out of order"):
        list(tx.index_scan("p", "by_ch", [_range("_id", "Gt", docs[0]["_id"])]))
