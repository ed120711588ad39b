"""Vector (hnswlib) and full-text (tantivy) search over a deployment's committed documents.

Entry points for the runtime and deploy:
  search_for(dep).set_schema(schema_json)    deploy: build/drop indexes to match schema.js
  search_for(dep).vector.search("table.index", vector, limit, filter_expr)
      1.0/actions/vectorSearch: query = {indexName, vector, limit, expressions};
      returns [VectorHit]; hit.to_convex() -> {"_id", "_score"}
  search_for(dep).text.search(txn, "table.index", source["filters"], limit)
      SerializedQuery source {type: "Search", indexName, filters}: documents in relevance
      order at txn's snapshot; the table is added to txn.read_set
Errors are SearchError (a ValueError) with a developer-facing message;
SearchSnapshotUnavailable means "retry the query at a newer snapshot".
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..transactions import Database
from .specs import SearchError, SearchIndexSpec, VectorIndexSpec, specs_from_schema
from .text import SearchSnapshotUnavailable, TextSearchEngine
from .vector import VectorHit, VectorSearchEngine

if TYPE_CHECKING:
    from ..deployment import Deployment


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


_services: weakref.WeakKeyDictionary[Deployment, SearchService] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def search_for(deployment: Deployment) -> SearchService:
    """The deployment's SearchService, created on first use (indexes come from set_schema)."""
    with _lock:
        service = _services.get(deployment)
        if service is None:
            service = SearchService(deployment.db, deployment.config.data_dir)
            _services[deployment] = service
        return service


__all__ = [
    "SearchError",
    "SearchIndexSpec",
    "SearchService",
    "SearchSnapshotUnavailable",
    "TextSearchEngine",
    "VectorHit",
    "VectorIndexSpec",
    "VectorSearchEngine",
    "search_for",
    "specs_from_schema",
]
