"""Search syscall adapters: the shapes convex/server sends and expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.search import SearchError, SearchService
from dataplane.search.syscalls import text_search_source, vector_search_syscall
from dataplane.transactions import Database

SCHEMA = {
    "tables": [
        {
            "tableName": "notes",
            "searchIndexes": [
                {"indexDescriptor": "by_body", "searchField": "body", "filterFields": []}
            ],
            "vectorIndexes": [
                {
                    "indexDescriptor": "by_vec",
                    "vectorField": "vec",
                    "dimensions": 2,
                    "filterFields": ["tag"],
                }
            ],
        }
    ]
}


def test_vector_and_text_syscalls(db: Database, tmp_path: Path) -> None:
    service = SearchService(db, tmp_path)
    try:
        service.set_schema(SCHEMA)
        txn = db.begin()
        a = txn.insert("notes", {"body": "first note", "vec": [1.0, 0.0], "tag": "x"})
        b = txn.insert("notes", {"body": "second note", "vec": [0.0, 1.0], "tag": "y"})
        db.commit(txn)
        query = {"indexName": "notes.by_vec", "vector": [1.0, 0.1], "expressions": None}
        out = vector_search_syscall(service, {"requestId": "r", "query": query})
        assert [r["_id"] for r in out["results"]] == [a, b]  # default limit 10
        assert set(out["results"][0]) == {"_id", "_score"}
        only_y = {"$eq": [{"$field": "tag"}, {"$literal": "y"}]}
        out = vector_search_syscall(
            service, {"query": {**query, "limit": 1, "expressions": only_y}}
        )
        assert [r["_id"] for r in out["results"]] == [b]
        with pytest.raises(SearchError, match="indexName"):
            vector_search_syscall(service, {"query": {}})

        source = {
            "type": "Search",
            "indexName": "notes.by_body",
            "filters": [{"type": "Search", "fieldPath": "body", "value": "sec"}],
        }
        assert [d["_id"] for d in text_search_source(service, db.begin(), source)] == [b]
        with pytest.raises(SearchError, match="indexName"):
            text_search_source(service, db.begin(), {"type": "Search"})
    finally:
        service.close()
