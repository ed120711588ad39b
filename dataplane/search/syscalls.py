"""The search entry points of convex/server, answered from a SearchService.

`1.0/actions/vectorSearch` comes from `ctx.vectorSearch` in actions; a SerializedQuery whose
source is `{type: "Search", indexName, filters}` comes from `.withSearchIndex(...)` in
queries and mutations.
"""

from __future__ import annotations

from typing import Any

from ..transactions import Transaction
from . import SearchService
from .specs import SearchError
from .vector import DEFAULT_LIMIT


def vector_search_syscall(search: SearchService, args: dict[str, Any]) -> dict[str, Any]:
    """`1.0/actions/vectorSearch` args {query: {indexName, vector, limit?, expressions}}."""
    query = args.get("query")
    if not isinstance(query, dict) or not isinstance(query.get("indexName"), str):
        raise SearchError("vectorSearch needs a query with an indexName")
    limit = query.get("limit")
    hits = search.vector.search(
        query["indexName"],
        query.get("vector"),
        DEFAULT_LIMIT if limit is None else limit,
        query.get("expressions"),
    )
    return {"results": [h.to_convex() for h in hits]}


def text_search_source(
    search: SearchService, txn: Transaction, source: dict[str, Any], limit: int = 1024
) -> list[dict[str, Any]]:
    """Documents of a `Search` query source in relevance order, read at txn's snapshot."""
    index_name = source.get("indexName")
    if not isinstance(index_name, str):
        raise SearchError("A search query needs an indexName")
    return search.text.search(txn, index_name, source.get("filters"), limit)
