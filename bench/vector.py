"""Vector search throughput vs brute-force numpy on the same data: `python -m bench.vector`.

Loads N random documents into a fresh SQLite deployment with a vector index, then measures
single-query searches per second of (a) raw hnswlib, (b) the engine end to end (argument
checks, snapshot, graph search, result mapping), and (c) exact brute force with numpy (one
matrix-vector product + top-k). Recall@k of the engine against brute force is printed too.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from dataplane.search.specs import VectorIndexSpec
from dataplane.search.vector import VectorSearchEngine
from dataplane.transactions import open_database

from .common import Result, print_table, rate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.vector")
    parser.add_argument("--n", type=int, default=20_000, help="documents")
    parser.add_argument("--dim", type=int, default=128, help="dimensions")
    parser.add_argument("--k", type=int, default=10, help="results per query")
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(1)
    data = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    queries = rng.standard_normal((512, args.dim)).astype(np.float32)
    spec = VectorIndexSpec("items", "by_embedding", "embedding", args.dim)

    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'db.sqlite3'}")
        engine = VectorSearchEngine(db, Path(tmp) / "data")
        engine.set_indexes([spec])
        ids: list[str] = []
        for start in range(0, args.n, 500):
            txn = db.begin()
            ids += [
                txn.insert("items", {"embedding": v.tolist()}) for v in data[start : start + 500]
            ]
            db.commit(txn)
        index = engine.index(spec.key)
        norms = data / np.linalg.norm(data, axis=1, keepdims=True)
        qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)

        def brute(i: int) -> object:
            scores = norms @ qn[i % len(qn)]
            top = np.argpartition(-scores, args.k)[: args.k]
            return top[np.argsort(-scores[top])]

        def raw_hnsw(i: int) -> object:
            return index.hnsw.knn_query(queries[i % len(queries)][None, :], k=args.k, num_threads=1)

        query_lists = [q.tolist() for q in queries]

        def ours(i: int) -> object:
            return engine.search(spec.key, query_lists[i % len(query_lists)], args.k)

        found = 0
        for i in range(100):
            exact = {ids[j] for j in brute(i)}  # type: ignore[attr-defined]
            found += len(exact & {h.doc_id for h in ours(i)})  # type: ignore[attr-defined]
        recall = found / (100 * args.k)

        brute_qps = rate(brute, args.seconds)
        rows = [
            Result("hnswlib knn_query", rate(raw_hnsw, args.seconds), brute_qps),
            Result("engine search (end to end)", rate(ours, args.seconds), brute_qps),
        ]
        engine.close()
        db.close()
    print_table(
        f"vector search, {args.n} docs x {args.dim} dims, top {args.k}, 1 thread "
        f"(raw = brute-force numpy); engine recall@{args.k} = {recall:.3f}",
        rows,
    )


if __name__ == "__main__":
    main()
