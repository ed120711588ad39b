"""Vector (hnswlib) and full-text (tantivy) search over a deployment's committed documents.

Entry points for the runtime and deploy:
  app.search.set_schema(schema_json)    deploy: build/drop indexes to match schema.js
  app.search.vector.search("table.index", vector, limit, filter_expr)
      1.0/actions/vectorSearch: query = {indexName, vector, limit, expressions};
      returns [VectorHit]; hit.to_convex() -> {"_id", "_score"}
  app.search.text.search(txn, "table.index", source["filters"], limit)
      SerializedQuery source {type: "Search", indexName, filters}: documents in relevance
      order at txn's snapshot; the table is added to txn.read_set
Errors are SearchError (a ValueError) with a developer-facing message;
SearchSnapshotUnavailable means "retry the query at a newer snapshot".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..transactions import Database
from .specs import SearchError, SearchIndexSpec, VectorIndexSpec, specs_from_schema
from .text import SearchSnapshotUnavailable, TextSearchEngine
from .vector import VectorHit, VectorSearchEngine


class SearchService:
    """Both engines of one deployment, configured together from the deployed schema."""

    def __init__(self, db: Database, data_dir: Path) -> None:
        self.vector = VectorSearchEngine(db, data_dir)
        self.text = TextSearchEngine(db)

    def set_schema(self, schema_json: dict[str, Any] | None) -> None:
        """Make the indexes match an exported schema (None: no schema, no indexes)."""
        vectors, texts = specs_from_schema(schema_json)
        self.vector.set_indexes(vectors)
        self.text.set_indexes(texts)

    def close(self) -> None:
        self.vector.close()
        self.text.close()


__all__ = [
    "SearchError",
    "SearchIndexSpec",
    "SearchService",
    "SearchSnapshotUnavailable",
    "TextSearchEngine",
    "VectorHit",
    "VectorIndexSpec",
    "VectorSearchEngine",
    "specs_from_schema",
]
