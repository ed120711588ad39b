"""Vector search: hnswlib indexes fed by real commits, filters, limits, snapshots, restarts."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from dataplane.search import hnsw as hnsw_mod
from dataplane.search.specs import SearchError, VectorIndexSpec, specs_from_schema
from dataplane.search.vector import VectorSearchEngine
from dataplane.transactions import Database, open_database
from dataplane.values import to_json

SPEC = VectorIndexSpec("items", "by_embedding", "embedding", 4, ("kind", "owner"))


def _insert(db: Database, docs: list[dict[str, Any]]) -> list[str]:
    txn = db.begin()
    ids = [txn.insert("items", d) for d in docs]
    db.commit(txn)
    return ids


def _eq(field: str, value: Any) -> dict[str, Any]:
    return {"$eq": [{"$field": field}, {"$literal": to_json(value)}]}


@pytest.fixture
def engine(db: Database, tmp_path: Path) -> Any:
    eng = VectorSearchEngine(db, tmp_path / "data")
    eng.set_indexes([SPEC])
    yield eng
    eng.close()


def test_results_follow_commits(db: Database, engine: VectorSearchEngine) -> None:
    a, b, c = _insert(
        db,
        [
            {"embedding": [1.0, 0.0, 0.0, 0.0], "kind": "x"},
            {"embedding": [0.9, 0.1, 0.0, 0.0], "kind": "y"},
            {"embedding": [0.0, 1.0, 0.0, 0.0], "kind": "x"},
        ],
    )
    hits = engine.search("items.by_embedding", [1.0, 0.0, 0.0, 0.0], 3)
    assert [h.doc_id for h in hits] == [a, b, c]
    assert hits[0].score == pytest.approx(1.0)
    assert hits[1].score == pytest.approx(0.9 / np.hypot(0.9, 0.1), rel=1e-5)
    assert hits[2].score == pytest.approx(0.0, abs=1e-6)
    assert hits[0].to_convex() == {"_id": a, "_score": hits[0].score}

    txn = db.begin()
    txn.patch(c, {"embedding": [1.0, 0.0, 0.0, 0.0]})
    txn.delete(a)
    db.commit(txn)
    hits = engine.search("items.by_embedding", [1.0, 0.0, 0.0, 0.0], 10)
    assert [h.doc_id for h in hits] == [c, b]

    txn = db.begin()
    txn.patch(b, {"embedding": "not a vector"})  # no longer indexable
    db.commit(txn)
    assert [h.doc_id for h in engine.search("items.by_embedding", [1, 0, 0, 0], 10)] == [c]


def test_filters(db: Database, engine: VectorSearchEngine) -> None:
    ids = _insert(
        db,
        [
            {"embedding": [1.0, 0.0, 0.0, 0.0], "kind": "x", "owner": 1.0},
            {"embedding": [0.9, 0.1, 0.0, 0.0], "kind": "y", "owner": 1},
            {"embedding": [0.8, 0.2, 0.0, 0.0], "kind": "z"},
        ],
    )
    q = [1.0, 0.0, 0.0, 0.0]
    assert [h.doc_id for h in engine.search("items.by_embedding", q, 10, _eq("kind", "y"))] == [
        ids[1]
    ]
    either = {"$or": [_eq("kind", "x"), _eq("kind", "z")]}
    assert [h.doc_id for h in engine.search("items.by_embedding", q, 10, either)] == [
        ids[0],
        ids[2],
    ]
    # float 1.0 and int64 1 are different Convex values
    assert [h.doc_id for h in engine.search("items.by_embedding", q, 10, _eq("owner", 1))] == [
        ids[1]
    ]
    missing = {"$eq": [{"$field": "owner"}, {"$literal": {"$undefined": None}}]}
    assert [h.doc_id for h in engine.search("items.by_embedding", q, 10, missing)] == [ids[2]]
    assert engine.search("items.by_embedding", q, 10, _eq("kind", "none")) == []
    # A filter update moves the document between filter values.
    txn = db.begin()
    txn.patch(ids[2], {"kind": "y"})
    db.commit(txn)
    assert {h.doc_id for h in engine.search("items.by_embedding", q, 10, _eq("kind", "y"))} == {
        ids[1],
        ids[2],
    }
    with pytest.raises(SearchError, match="not a filter field"):
        engine.search("items.by_embedding", q, 10, _eq("color", "red"))
    with pytest.raises(SearchError, match=r"only use q\.eq and q\.or"):
        engine.search("items.by_embedding", q, 10, {"$neq": []})


@pytest.mark.parametrize(
    ("vector", "limit", "message"),
    [
        ([1.0, 0.0, 0.0], 10, "3 dimensions but the index has 4"),
        ([1.0, 0.0, 0.0, 0.0], 0, "between 1 and 256"),
        ([1.0, 0.0, 0.0, 0.0], 257, "between 1 and 256"),
        ([1.0, 0.0, 0.0, 0.0], 2.5, "must be an integer"),
        ([1.0, 0.0, "a", 0.0], 10, "finite numbers"),
        ([1.0, 0.0, float("nan"), 0.0], 10, "finite numbers"),
        ([0.0, 0.0, 0.0, 0.0], 10, "all zeros"),
        ([], 10, "non-empty array"),
    ],
)
def test_bad_queries(engine: VectorSearchEngine, vector: Any, limit: Any, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        engine.search("items.by_embedding", vector, limit)


def test_unknown_index(engine: VectorSearchEngine) -> None:
    with pytest.raises(SearchError, match=r"Vector index items\.nope not found"):
        engine.search("items.nope", [1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dimensions": 1}, "between 2 and 4096"),
        ({"dimensions": 4097}, "between 2 and 4096"),
        ({"dimensions": "8"}, "must be an integer"),
        ({"vector_field": "bad field"}, "invalid field path"),
        ({"filter_fields": ("a",) * 2}, "listed twice"),
        ({"filter_fields": tuple(f"f{i}" for i in range(17))}, "at most 16"),
        ({"name": "1bad"}, "invalid index name"),
    ],
)
def test_spec_validation(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "table": "items",
        "name": "v",
        "vector_field": "e",
        "dimensions": 8,
        "filter_fields": (),
    }
    with pytest.raises(SearchError, match=message):
        VectorIndexSpec(**{**base, **kwargs})


def test_specs_from_exported_schema() -> None:
    schema = {
        "tables": [
            {
                "tableName": "docs",
                "indexes": [],
                "vectorIndexes": [
                    {
                        "indexDescriptor": "by_emb",
                        "vectorField": "emb",
                        "dimensions": 1536,
                        "filterFields": ["tag"],
                    }
                ],
                "searchIndexes": [
                    {"indexDescriptor": "by_body", "searchField": "body", "filterFields": []}
                ],
            }
        ]
    }
    vectors, texts = specs_from_schema(schema)
    assert vectors == [VectorIndexSpec("docs", "by_emb", "emb", 1536, ("tag",))]
    assert [(t.key, t.search_field) for t in texts] == [("docs.by_body", "body")]
    assert specs_from_schema(None) == ([], [])


def test_snapshot_excludes_later_inserts(db: Database, engine: VectorSearchEngine) -> None:
    (first,) = _insert(db, [{"embedding": [0.0, 1.0, 0.0, 0.0]}])
    old = db.begin()
    _insert(db, [{"embedding": [1.0, 0.0, 0.0, 0.0]}])
    hits = engine.search("items.by_embedding", [1.0, 0.0, 0.0, 0.0], 10, txn=old)
    assert [h.doc_id for h in hits] == [first]
    assert len(engine.search("items.by_embedding", [1.0, 0.0, 0.0, 0.0], 10)) == 2


def _random_docs(rng: np.random.Generator, n: int, dim: int) -> list[dict[str, Any]]:
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    return [{"embedding": v.tolist(), "kind": f"k{i % 4}"} for i, v in enumerate(vecs)]


def _load(db: Database, docs: list[dict[str, Any]], batch: int = 500) -> list[str]:
    ids: list[str] = []
    for i in range(0, len(docs), batch):
        ids += _insert(db, docs[i : i + batch])
    return ids


def _brute(
    ids: list[str], docs: list[dict[str, Any]], q: np.ndarray, k: int, kind: str | None = None
) -> list[str]:
    mat = np.asarray([d["embedding"] for d in docs], dtype=np.float32)
    scores = mat @ q / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q))
    order = np.argsort(-scores)
    out = [ids[i] for i in order if kind is None or docs[i]["kind"] == kind]
    return out[:k]


def test_recall_at_10_against_brute_force(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(7)
    dim, n = 64, 4000
    db = open_database(sqlite_url)
    spec = VectorIndexSpec("items", "by_embedding", "embedding", dim, ("kind",))
    docs = _random_docs(rng, n, dim)
    ids = _load(db, docs[: n // 2])
    engine = VectorSearchEngine(db, tmp_path / "data")
    engine.set_indexes([spec])  # half built by backfill, half fed by commits
    ids += _load(db, docs[n // 2 :])
    queries = rng.standard_normal((60, dim)).astype(np.float32)
    found = sum(
        len(
            set(_brute(ids, docs, q, 10))
            & {h.doc_id for h in engine.search(spec.key, q.tolist(), 10)}
        )
        for q in queries
    )
    recall = found / (10 * len(queries))
    assert recall >= 0.95, recall
    # Filtered graph search (threshold lowered so the graph path, not brute force, answers).
    monkeypatch.setattr(hnsw_mod, "BRUTE_FORCE_BELOW", 0)
    found = sum(
        len(
            set(_brute(ids, docs, q, 10, "k1"))
            & {h.doc_id for h in engine.search(spec.key, q.tolist(), 10, _eq("kind", "k1"))}
        )
        for q in queries[:20]
    )
    assert found / 200 >= 0.95
    engine.close()
    db.close()


def test_persisted_and_reconciled_after_restart(sqlite_url: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = tmp_path / "data"
    db = open_database(sqlite_url)
    engine = VectorSearchEngine(db, data)
    engine.set_indexes([SPEC])
    docs = [{"embedding": v.tolist(), "kind": "x"} for v in rng.standard_normal((300, 4))]
    ids = _load(db, docs, 100)
    txn = db.begin()
    txn.delete(ids[0])
    db.commit(txn)
    q = [1.0, 0.5, -0.5, 0.25]
    before = [h.doc_id for h in engine.search(SPEC.key, q, 20)]
    engine.close()
    db.close()
    assert (data / "search" / "vector" / SPEC.key / "graph.bin").exists()

    # Clean restart: the checkpoint is current, so the index is loaded, not rebuilt.
    db = open_database(sqlite_url)
    engine = VectorSearchEngine(db, data)
    engine.set_indexes([SPEC])
    assert engine.index(SPEC.key).source == "disk"
    assert [h.doc_id for h in engine.search(SPEC.key, q, 20)] == before
    assert ids[0] not in {h.doc_id for h in engine.search(SPEC.key, q, 256)}
    (new_id,) = _insert(db, [{"embedding": q, "kind": "x"}])  # index keeps working after load
    assert engine.search(SPEC.key, q, 1)[0].doc_id == new_id
    engine.db.remove_commit_listener(engine._on_commit)  # "crash": no checkpoint from here on
    txn = db.begin()
    txn.delete(ids[1])
    txn.patch(ids[2], {"embedding": [-x for x in q]})
    txn.patch(ids[3], {"note": "unrelated field"})
    db.commit(txn)
    db.close()

    # The checkpoint is stale: it is loaded and only the differences are re-indexed.
    db = open_database(sqlite_url)
    engine = VectorSearchEngine(db, data)
    engine.set_indexes([SPEC])
    index = engine.index(SPEC.key)
    assert index.source == "reconciled"
    assert index.changes == 3  # the insert, the delete, the moved vector; not the other 297
    assert len(index) == 299
    assert engine.search(SPEC.key, q, 1)[0].doc_id == new_id
    assert engine.search(SPEC.key, [-x for x in q], 1)[0].doc_id == ids[2]
    assert ids[1] not in {h.doc_id for h in engine.search(SPEC.key, q, 256)}
    engine.close()
    db.close()

    # A damaged checkpoint is ignored and the index is rebuilt from the table.
    (data / "search" / "vector" / SPEC.key / "meta.json").write_bytes(b"{not json")
    db = open_database(sqlite_url)
    engine = VectorSearchEngine(db, data)
    engine.set_indexes([SPEC])
    assert engine.index(SPEC.key).source == "rebuilt"
    assert len(engine.index(SPEC.key)) == 299
    assert engine.search(SPEC.key, q, 1)[0].doc_id == new_id
    engine.close()
    db.close()


def test_build_while_commits_arrive(db: Database, tmp_path: Path) -> None:
    _load(db, [{"embedding": [1.0, float(i), 0.0, 0.0], "kind": "x"} for i in range(600)], 200)
    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 400:
            written.extend(_insert(db, [{"embedding": [0.0, 1.0, float(i), 0.0]}]))
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    engine = VectorSearchEngine(db, tmp_path / "data")
    try:
        engine.set_indexes([SPEC])
        stop.set()
        t.join()
        assert len(engine.index(SPEC.key)) == 600 + len(written)
        assert db.begin().count("items") == 600 + len(written)
    finally:
        stop.set()
        t.join()
        engine.close()


def test_set_indexes_drops_and_redefines(db: Database, engine: VectorSearchEngine) -> None:
    _insert(db, [{"embedding": [1.0, 0.0, 0.0, 0.0], "kind": "x"}])
    wider = VectorIndexSpec("items", "by_embedding", "embedding", 8, ())
    engine.set_indexes([wider])
    assert len(engine.index(wider.key)) == 0  # 4-d vectors do not fit an 8-d index
    engine.set_indexes([])
    with pytest.raises(SearchError, match="not found"):
        engine.search(wider.key, [1.0] * 8)


def test_concurrent_searches_equal_the_snapshot(db: Database, engine: VectorSearchEngine) -> None:
    """Filtered searches are exact (brute force over the filter's documents), so every answer
    must equal the true top-k of the searcher's snapshot while writers change the table."""
    rng = np.random.default_rng(11)
    live = _load(db, [{"embedding": v.tolist(), "kind": "a"} for v in rng.standard_normal((60, 4))])
    stop = threading.Event()
    errors: list[str] = []
    checked = [0]

    def writer() -> None:
        w = np.random.default_rng(12)
        for _ in range(150):
            txn = db.begin()
            op = w.random()
            if op < 0.4 or not live:
                live.append(
                    txn.insert("items", {"embedding": w.standard_normal(4).tolist(), "kind": "a"})
                )
            elif op < 0.8:
                txn.patch(
                    live[int(w.integers(len(live)))], {"embedding": w.standard_normal(4).tolist()}
                )
            else:
                txn.delete(live.pop(int(w.integers(len(live)))))
            db.commit(txn)
        stop.set()

    def searcher(seed: int) -> None:
        r = np.random.default_rng(seed)
        while not stop.is_set():
            q = r.standard_normal(4)
            txn = db.begin()
            got = [h.doc_id for h in engine.search(SPEC.key, q.tolist(), 5, _eq("kind", "a"), txn)]
            docs = list(txn.table_scan("items"))
            scores = [
                float(np.dot(q, d["embedding"]) / np.linalg.norm(d["embedding"])) for d in docs
            ]
            want = [docs[i]["_id"] for i in np.argsort(scores)[::-1][:5]]
            checked[0] += 1
            if got != want:
                errors.append(f"got {got} want {want}")

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=searcher, args=(s,)) for s in (1, 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert checked[0] > 0


def test_old_snapshot_sees_its_own_versions(db: Database, engine: VectorSearchEngine) -> None:
    best, second, third = _insert(
        db,
        [
            {"embedding": [1.0, 0.0, 0.0, 0.0], "kind": "x"},
            {"embedding": [0.8, 0.6, 0.0, 0.0], "kind": "x"},
            {"embedding": [0.6, 0.8, 0.0, 0.0], "kind": "x"},
        ],
    )
    old = db.begin()
    txn = db.begin()
    txn.patch(best, {"embedding": [-1.0, 0.0, 0.0, 0.0]})  # now the worst match
    txn.delete(second)
    txn.insert("items", {"embedding": [1.0, 0.01, 0.0, 0.0], "kind": "x"})
    db.commit(txn)
    q = [1.0, 0.0, 0.0, 0.0]
    hits = engine.search(SPEC.key, q, 2, txn=old)
    assert [h.doc_id for h in hits] == [best, second]
    assert hits[0].score == pytest.approx(1.0)
    filtered = engine.search(SPEC.key, q, 3, _eq("kind", "x"), txn=old)
    assert [h.doc_id for h in filtered] == [best, second, third]
    latest = [h.doc_id for h in engine.search(SPEC.key, q, 3)]
    assert latest[1:] == [third, best] and second not in latest


def test_periodic_checkpoint_survives_a_crash(sqlite_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = open_database(sqlite_url)
    engine = VectorSearchEngine(db, data, checkpoint_interval=0.05)
    engine.set_indexes([SPEC])
    ids = _insert(db, [{"embedding": [1.0, float(i), 0.0, 0.0]} for i in range(50)])
    meta = data / "search" / "vector" / SPEC.key / "meta.json"
    deadline = time.monotonic() + 60
    while not (meta.exists() and orjson.loads(meta.read_bytes())["ts"] == db.latest_ts()):
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.05)
    engine._stop.set()  # crash: no close(), no final checkpoint
    db.remove_commit_listener(engine._on_commit)
    db.close()

    db = open_database(sqlite_url)
    engine = VectorSearchEngine(db, data, checkpoint_interval=None)
    engine.set_indexes([SPEC])
    assert engine.index(SPEC.key).source == "disk"
    assert len(engine.index(SPEC.key)) == 50
    assert engine.search(SPEC.key, [1.0, 0.0, 0.0, 0.0], 1)[0].doc_id == ids[0]
    engine.close()
    db.close()


def test_an_index_saved_empty_accepts_vectors_after_loading(tmp_path: Path) -> None:
    """A checkpoint taken before the first vector restores a graph with room for none; the
    first insert after a restart must grow it rather than fail."""
    empty = hnsw_mod.VectorIndex(SPEC)
    empty.save(tmp_path / "ix", ts=1)
    restored = hnsw_mod.VectorIndex(SPEC)
    assert restored.load(tmp_path / "ix") == 1
    restored.upsert("d1", {"embedding": [1.0, 0.0, 0.0, 0.0], "kind": "a", "owner": "x"})
    restored.upsert("d2", {"embedding": [0.0, 1.0, 0.0, 0.0], "kind": "a", "owner": "x"})
    assert len(restored) == 2
    assert (
        restored.candidates(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), 1, None)[0][0] == "d1"
    )
