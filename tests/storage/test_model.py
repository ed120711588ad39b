"""Randomised check of the engine against a plain in-memory model of every committed snapshot.

Covers MVCC reads at old timestamps, index ranges in both orders, read-your-own-writes, the
document cache, garbage collection and reopening, on both backends.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from dataplane.transactions import Database, IndexDefinition, Transaction, open_database
from dataplane.values import UNDEFINED, to_json

from .test_keys import reference_cmp

G_VALUES: list[Any] = [UNDEFINED, None, 1, 2, 1.5, -0.0, 0.0, True, False, "a", "b", b"x"]
State = dict[str, dict[str, Any]]


def _sort_key(doc: dict[str, Any]) -> Any:
    return (doc.get("g", UNDEFINED), doc["_creationTime"], doc["_id"])


def _cmp_docs(a: dict[str, Any], b: dict[str, Any]) -> int:
    for x, y in zip(_sort_key(a), _sort_key(b), strict=True):
        c = reference_cmp(x, y)
        if c:
            return c
    return 0


def _expected(state: State, bound: tuple[str, Any] | None, order: str) -> list[str]:
    docs = list(state.values())
    if bound is not None:
        op, v = bound
        tests = {
            "Eq": lambda c: c == 0,
            "Gt": lambda c: c > 0,
            "Gte": lambda c: c >= 0,
            "Lt": lambda c: c < 0,
            "Lte": lambda c: c <= 0,
        }[op]
        docs = [d for d in docs if tests(reference_cmp(d.get("g", UNDEFINED), v))]
    docs.sort(key=functools.cmp_to_key(_cmp_docs), reverse=order == "desc")
    return [d["_id"] for d in docs]


def _scan(tx: Transaction, bound: tuple[str, Any] | None, order: str) -> list[str]:
    exprs: list[dict[str, Any]] = []
    if bound is not None:
        expr: dict[str, Any] = {"type": bound[0], "fieldPath": "g"}
        if bound[1] is not UNDEFINED:
            expr["value"] = to_json(bound[1])
        exprs.append(expr)
    return [d["_id"] for d in tx.index_scan("t", "by_g", exprs, order)]  # type: ignore[arg-type]


def _random_bound(rng: random.Random) -> tuple[str, Any] | None:
    if rng.random() < 0.2:
        return None
    return rng.choice(["Eq", "Gt", "Gte", "Lt", "Lte"]), rng.choice(G_VALUES[1:])


def test_engine_matches_model(db_url: str) -> None:
    rng = random.Random(20261125)
    db: Database = open_database(db_url, gc_interval_s=0)
    try:
        db.set_indexes("t", [IndexDefinition("by_g", ["g"])])
        history: list[tuple[int, State]] = [(db.latest_ts(), {})]
        for step in range(120):
            state = {k: dict(v) for k, v in history[-1][1].items()}
            tx = db.begin()
            for _ in range(rng.randint(1, 4)):
                roll = rng.random()
                if roll < 0.45 or not state:
                    g = rng.choice(G_VALUES)
                    body = {"n": float(step)} if g is UNDEFINED else {"n": float(step), "g": g}
                    doc_id = tx.insert("t", body)
                    state[doc_id] = tx.get(doc_id)  # type: ignore[assignment]
                elif roll < 0.8:
                    doc_id = rng.choice(sorted(state))
                    g = rng.choice(G_VALUES)
                    tx.patch(doc_id, {"g": g})
                    if g is UNDEFINED:
                        state[doc_id].pop("g", None)
                    else:
                        state[doc_id]["g"] = g
                else:
                    doc_id = rng.choice(sorted(state))
                    tx.delete(doc_id)
                    del state[doc_id]
                bound, order = _random_bound(rng), rng.choice(["asc", "desc"])
                assert _scan(tx, bound, order) == _expected(state, bound, order)
            ts = db.commit(tx)
            history.append((ts, state))
            # reads at a random earlier snapshot
            old_ts, old_state = rng.choice(history)
            reader = db.begin(old_ts)
            for doc_id in rng.sample(sorted(state), min(3, len(state))):
                got = reader.get(doc_id)
                assert got == old_state.get(doc_id), (step, doc_id)
            bound, order = _random_bound(rng), rng.choice(["asc", "desc"])
            assert _scan(reader, bound, order) == _expected(old_state, bound, order), step
            assert reader.count("t") == len(old_state)
            if step % 40 == 39:
                keep = history[-5:]
                db.collect_garbage(retention_ns=db.latest_ts() - keep[0][0], chunk_rows=5)
                history = keep
                db.close()
                db = open_database(db_url, gc_interval_s=0)
    finally:
        db.close()
