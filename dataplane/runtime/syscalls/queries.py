"""Index and search queries of a query or mutation: streams read in batches, and pages
(`.paginate()`, whose first page may be pinned by a subscription's journal)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ...scheduled.jobs import SCHEDULED, owner_of
from ...values import to_json
from ..host_services import search_documents
from ..isolate import SyscallFailure
from ..queries import (
    open_search_stream,
    open_stream,
    query_page,
    search_limit_hint,
    search_page,
    search_source,
)
from .base import Handler, Raw, dumps

if TYPE_CHECKING:
    from .database import DatabaseSyscalls


def _open(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    query = a.get("query")
    if not isinstance(query, dict):
        raise SyscallFailure("Invalid query")
    qid = next(host.stream_ids)
    search = search_source(query)
    if search is None:
        stream = open_stream(host.txn, query)
        if _reads_jobs(query):
            namespace = host.call.namespace
            stream = (d for d in stream if owner_of(d) == namespace)
        host.streams[qid] = stream
    else:
        docs = search_documents(host.call, host.txn, search, search_limit_hint(query, 1024))
        host.streams[qid] = open_search_stream(docs, query)
    return {"queryId": qid}


def _reads_jobs(query: Any) -> bool:
    """Whether a query reads `_scheduled_functions` (whose jobs each namespace sees apart)."""
    source = query.get("source") if isinstance(query, dict) else None
    if not isinstance(source, dict):
        return False
    table = source.get("tableName") or str(source.get("indexName") or "").partition(".")[0]
    return bool(table == SCHEDULED)


def _next_batch(host: DatabaseSyscalls, a: dict[str, Any], *, single: bool = False) -> Any:
    stream_id = a.get("queryId")
    stream = host.streams.get(stream_id) if isinstance(stream_id, int) else None
    if stream is None:
        raise SyscallFailure(f"Query {stream_id} is not open")
    n = max(1, min(int(a.get("n", 1)), 1024))
    values = [to_json(d) for d in itertools.islice(stream, n)]
    done = len(values) < n
    if done:
        host.streams.pop(stream_id, None)  # type: ignore[arg-type]
    if single:
        return {"value": values[0] if values else None, "done": not values}
    return Raw("\n".join(["1" if done else "0", *(dumps(v) for v in values)]))


def _next(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    return _next_batch(host, a, single=True)


def _cleanup(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    return host.streams.pop(a.get("queryId"), None) is not None  # type: ignore[arg-type]


def _page(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    first_page = not host.paged
    host.paged = True
    if first_page and host.journal_end is not None and a.get("endCursor") is None:
        a = {**a, "endCursor": host.journal_end}
    search = search_source(a.get("query"))
    if search is None:
        result = query_page(host.txn, a)
    else:
        result = search_page(search_documents(host.call, host.txn, search, 1024), a)
    page = result["page"]
    if _reads_jobs(a.get("query")):
        page = [d for d in page if owner_of(d) == host.call.namespace]
    result["page"] = [to_json(d) for d in page]
    if first_page:
        host.paged_end = str(result["continueCursor"])
    return result


QUERY_OPS: dict[str, Handler[DatabaseSyscalls]] = {
    "1.0/queryStream": _open,
    "strata/queryStreamNextBatch": _next_batch,
    "1.0/queryStreamNext": _next,
    "1.0/queryCleanup": _cleanup,
    "1.0/queryPage": _page,
}
