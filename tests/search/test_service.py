"""SearchService wiring: indexes come from an exported schema; each deployment has its own."""

from __future__ import annotations

from pathlib import Path

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from dataplane.search import SearchService
from dataplane.transactions import Database

SCHEMA = {
    "tables": [
        {
            "tableName": "docs",
            "indexes": [],
            "searchIndexes": [
                {"indexDescriptor": "by_text", "searchField": "text", "filterFields": ["tag"]}
            ],
            "vectorIndexes": [
                {
                    "indexDescriptor": "by_vec",
                    "vectorField": "vec",
                    "dimensions": 3,
                    "filterFields": ["tag"],
                }
            ],
        }
    ],
    "schemaValidation": True,
}


def test_set_schema_builds_and_drops(db: Database, tmp_path: Path) -> None:
    txn = db.begin()
    doc = txn.insert("docs", {"text": "hello there", "vec": [1.0, 2.0, 3.0], "tag": "t"})
    db.commit(txn)
    service = SearchService(db, tmp_path)
    try:
        service.set_schema(SCHEMA)
        hits = service.vector.search("docs.by_vec", [1.0, 2.0, 3.0], 5)
        assert [h.doc_id for h in hits] == [doc]
        found = service.text.search(
            db.begin(), "docs.by_text", [{"type": "Search", "fieldPath": "text", "value": "hel"}]
        )
        assert [d["_id"] for d in found] == [doc]
        service.set_schema(None)
        assert service.vector.specs() == [] and service.text.specs() == []
    finally:
        service.close()


def test_search_is_per_deployment(tmp_path: Path) -> None:
    deps = [
        DeploymentApp(
            DeploymentConfig(
                name=f"d{i}",
                data_dir=tmp_path / f"d{i}",
                database_url=f"sqlite:///{tmp_path / f'd{i}.sqlite3'}",
                instance_secret="s",
                public_url="http://x",
            )
        )
        for i in range(2)
    ]
    try:
        a, b = (d.search for d in deps)
        assert a is not b
        a.set_schema(SCHEMA)
        txn = deps[0].db.begin()
        txn.insert("docs", {"text": "tenant a secret", "vec": [1.0, 0.0, 0.0]})
        deps[0].db.commit(txn)
        b.set_schema(SCHEMA)  # same schema, other tenant: sees none of a's documents
        assert b.vector.search("docs.by_vec", [1.0, 0.0, 0.0]) == []
        filters = [{"type": "Search", "fieldPath": "text", "value": "secret"}]
        assert b.text.search(deps[1].db.begin(), "docs.by_text", filters) == []
        assert len(a.text.search(deps[0].db.begin(), "docs.by_text", filters)) == 1
    finally:
        for d in deps:
            d.close()
