"""Executing convex/server's SerializedQuery against a Transaction: streams, filters, pages.

Sources map onto the Transaction's lazy index scans (so the read set records exactly the key
ranges consumed); filter expressions are evaluated here in Convex's value order (the
order-preserving index encoding from storage.keys).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from ..storage.keys import encode_value, field_value
from ..transactions import IndexNotFound, Transaction
from ..values import UNDEFINED, from_json
from .isolate import SyscallFailure

Doc = dict[str, Any]
END_CURSOR = "_end"
_CURSOR_PREFIX = "k1:"
_SEARCH_CURSOR_PREFIX = "s1:"


def parse_source(query: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]], str]:
    """(table, index name, range expressions, order) of a SerializedQuery's source."""
    if not isinstance(query, dict) or not isinstance(query.get("source"), dict):
        raise SyscallFailure("Invalid query: missing source")
    src = query["source"]
    kind = src.get("type")
    order = src.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise SyscallFailure(f"Invalid query order {order!r}")
    if kind == "FullTableScan":
        return str(src.get("tableName")), "by_creation_time", [], order
    if kind == "IndexRange":
        index_name = str(src.get("indexName", ""))
        table, _, index = index_name.partition(".")
        if not table or not index:
            raise SyscallFailure(f"Invalid index name {index_name!r}")
        return table, index, list(src.get("range") or []), order
    if kind == "Search":
        raise SyscallFailure("A search query is answered by its search index, not a range scan")
    raise SyscallFailure(f"Unknown query source type {kind!r}")


def _truthy(value: Any) -> bool:
    return value is True


def _arith(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, bool) or isinstance(b, bool) or type(a) is not type(b):
        raise SyscallFailure(f"Filter {op} needs two numbers or two bigints, got {a!r} and {b!r}")
    if not isinstance(a, int | float):
        raise SyscallFailure(f"Filter {op} needs numbers, got {a!r} and {b!r}")
    if op == "$add":
        return a + b
    if op == "$sub":
        return a - b
    if op == "$mul":
        return a * b
    if b == 0:
        if isinstance(a, int):
            raise SyscallFailure(f"Filter {op}: division by zero")
        return float("nan") if a == 0 else (float("inf") if a > 0 else float("-inf"))
    if op == "$div":
        return a // b if isinstance(a, int) else a / b
    import math

    return int(math.fmod(a, b)) if isinstance(a, int) else math.fmod(a, b)


_COMPARE = {"$eq", "$neq", "$lt", "$lte", "$gt", "$gte"}


def evaluate(expr: Any, doc: Doc) -> Any:
    """Evaluate a filter Expression (`{$field}`, `{$literal}`, `{$eq: [l, r]}`...) on doc."""
    if not isinstance(expr, dict) or len(expr) != 1:
        raise SyscallFailure(f"Invalid filter expression {expr!r}")
    ((op, arg),) = expr.items()
    if op == "$literal":
        return from_json(arg)
    if op == "$field":
        return field_value(doc, str(arg))
    if op == "$and":
        return all(_truthy(evaluate(x, doc)) for x in arg)
    if op == "$or":
        return any(_truthy(evaluate(x, doc)) for x in arg)
    if op == "$not":
        return not _truthy(evaluate(arg, doc))
    if op == "$neg":
        v = evaluate(arg, doc)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise SyscallFailure(f"Filter $neg needs a number, got {v!r}")
        return -v
    if not isinstance(arg, list) or len(arg) != 2:
        raise SyscallFailure(f"Filter {op} needs two operands")
    left, right = evaluate(arg[0], doc), evaluate(arg[1], doc)
    if op in _COMPARE:
        kl, kr = encode_value(left), encode_value(right)
        if op == "$eq":
            return kl == kr
        if op == "$neq":
            return kl != kr
        if op == "$lt":
            return kl < kr
        if op == "$lte":
            return kl <= kr
        if op == "$gt":
            return kl > kr
        return kl >= kr
    if op in ("$add", "$sub", "$mul", "$div", "$mod"):
        return _arith(op, left, right)
    raise SyscallFailure(f"Unknown filter operator {op!r}")


def _apply_operators(docs: Iterator[Doc], operators: list[dict[str, Any]]) -> Iterator[Doc]:
    it = docs
    for operator in operators:
        if "filter" in operator:
            it = _filtered(it, operator["filter"])
        elif "limit" in operator:
            it = _limited(it, int(operator["limit"]))
        else:
            raise SyscallFailure(f"Unknown query operator {operator!r}")
    return it


def _filtered(docs: Iterator[Doc], expr: Any) -> Iterator[Doc]:
    for d in docs:
        if _truthy(evaluate(expr, d)):
            yield d


def _limited(docs: Iterator[Doc], n: int) -> Iterator[Doc]:
    if n <= 0:
        return
    for i, d in enumerate(docs):
        yield d
        if i + 1 >= n:
            return


def _scan(
    txn: Transaction,
    table: str,
    index: str,
    ranges: list[dict[str, Any]],
    order: str,
    after: bytes | None = None,
    end_at: bytes | None = None,
) -> Iterator[tuple[bytes, Doc]]:
    """(index key, doc) pairs of the source range, resuming after / stopping at keys."""
    try:
        return txn.index_scan_keyed(
            table,
            index,
            ranges,
            "desc" if order == "desc" else "asc",
            start_after=after,
            end_at=end_at,
        )
    except IndexNotFound as e:
        raise SyscallFailure(str(e)) from None


def open_stream(txn: Transaction, query: dict[str, Any]) -> Iterator[Doc]:
    """A lazy iterator over the documents a SerializedQuery returns."""
    table, index, ranges, order = parse_source(query)
    docs = (doc for _, doc in _scan(txn, table, index, ranges, order))
    return _apply_operators(docs, query.get("operators") or [])


def search_source(query: Any) -> dict[str, Any] | None:
    """The `{type: "Search", indexName, filters}` source of a query, None for range queries."""
    src = query.get("source") if isinstance(query, dict) else None
    return src if isinstance(src, dict) and src.get("type") == "Search" else None


def search_limit_hint(query: dict[str, Any], cap: int) -> int:
    """How many ranked hits a search query can use: a leading `.take(n)` needs only n."""
    operators = query.get("operators") or []
    if operators and isinstance(operators[0], dict) and "limit" in operators[0]:
        n = operators[0]["limit"]
        if isinstance(n, int | float) and not isinstance(n, bool):
            return max(1, min(int(n), cap))
    return cap


def open_search_stream(docs: list[Doc], query: dict[str, Any]) -> Iterator[Doc]:
    """The documents of a search query: ranked hits with its filter/take operators applied."""
    return _apply_operators(iter(docs), query.get("operators") or [])


def _search_offset(cursor: Any) -> int:
    if cursor is None:
        return 0
    if isinstance(cursor, str) and cursor.startswith(_SEARCH_CURSOR_PREFIX):
        digits = cursor[len(_SEARCH_CURSOR_PREFIX) :]
        if digits.isdigit():
            return int(digits)
    raise SyscallFailure(f"Invalid pagination cursor {cursor!r} for a search query")


def search_page(docs: list[Doc], args: dict[str, Any]) -> dict[str, Any]:
    """Serve `1.0/queryPage` for a search query: pages over the ranked, filtered hits.

    Cursors are positions in the ranking at the query's snapshot, so a page re-run by a
    subscription keeps its place even when new documents rank above it.
    """
    query = args.get("query") or {}
    cursor = args.get("cursor")
    if cursor == END_CURSOR:
        return _page([], True, END_CURSOR)
    page_size = args.get("pageSize")
    if not isinstance(page_size, int | float) or page_size < 0:
        raise SyscallFailure(f"Invalid page size {page_size!r}")
    start = _search_offset(cursor)
    end_cursor = args.get("endCursor")
    filters = [op["filter"] for op in (query.get("operators") or []) if "filter" in op]
    matched = [d for d in docs if all(_truthy(evaluate(f, d)) for f in filters)]
    if end_cursor is not None and end_cursor != END_CURSOR:
        end = max(start, _search_offset(end_cursor))
        return _page(matched[start:end], False, end_cursor)
    end = start + int(page_size)
    # As on Convex, a full page is not known to be the last: only a short one ends the search
    # (a full last page is followed by an empty, done one).
    if end > len(matched) or start >= len(matched) or end_cursor == END_CURSOR:
        return _page(matched[start:], True, END_CURSOR)
    return _page(matched[start:end], False, f"{_SEARCH_CURSOR_PREFIX}{end}")


def encode_cursor(key: bytes) -> str:
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(key).decode()


def decode_cursor(cursor: Any) -> bytes | None:
    """None for the start; the key to resume after otherwise."""
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(_CURSOR_PREFIX):
        raise SyscallFailure(f"Invalid pagination cursor {cursor!r}")
    try:
        return base64.urlsafe_b64decode(cursor[len(_CURSOR_PREFIX) :].encode())
    except (binascii.Error, ValueError):
        raise SyscallFailure(f"Invalid pagination cursor {cursor!r}") from None


def query_page(txn: Transaction, args: dict[str, Any]) -> dict[str, Any]:
    """Serve `1.0/queryPage`: one page of a query with key-based, stable cursors."""
    query = args.get("query") or {}
    table, index, ranges, order = parse_source(query)
    cursor = args.get("cursor")
    end_cursor = args.get("endCursor")
    page_size = args.get("pageSize")
    if not isinstance(page_size, int | float) or page_size < 0:
        raise SyscallFailure(f"Invalid page size {page_size!r}")
    max_rows = args.get("maximumRowsRead")
    if cursor == END_CURSOR:
        return _page([], True, END_CURSOR)
    after = decode_cursor(cursor)
    end_key = None if end_cursor in (None, END_CURSOR) else decode_cursor(end_cursor)
    filters = [op["filter"] for op in (query.get("operators") or []) if "filter" in op]
    page: list[Doc] = []
    rows_read = 0
    to_the_end = end_cursor == END_CURSOR  # a journaled last page: take what follows too
    for key, doc in _scan(txn, table, index, ranges, order, after, end_key):
        rows_read += 1
        if all(_truthy(evaluate(f, doc)) for f in filters):
            page.append(doc)
        if end_key is not None:
            if key == end_key:
                return _page(page, False, encode_cursor(end_key))
            continue
        if to_the_end:
            continue
        if len(page) >= page_size or (max_rows is not None and rows_read >= max_rows):
            return _page(page, False, encode_cursor(key))
    if end_key is not None:
        # The document at endCursor is gone: the page still ends there.
        return _page(page, False, encode_cursor(end_key))
    return _page(page, True, END_CURSOR)


def _page(page: list[Doc], done: bool, cursor: str) -> dict[str, Any]:
    return {
        "page": page,
        "isDone": done,
        "continueCursor": cursor,
        "splitCursor": None,
        "pageStatus": None,
    }


__all__ = [
    "END_CURSOR",
    "UNDEFINED",
    "evaluate",
    "open_search_stream",
    "open_stream",
    "query_page",
    "search_limit_hint",
    "search_page",
    "search_source",
]
