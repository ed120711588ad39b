"""Reading indexed fields out of documents and turning filter values into comparable keys.

Filter equality is Convex equality: 1 (float) and 1n (int64) differ, and a missing field
only equals `undefined`. Keys are the canonical convex-JSON bytes of the value.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..values import UNDEFINED, ConvexValueError, from_json, to_json
from .specs import SearchError

MISSING_KEY = b"\x00undefined"


def field_value(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted field path, or UNDEFINED if any step is missing."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return UNDEFINED
        value = value[part]
    return value


def value_key(value: Any) -> bytes:
    """Canonical bytes of a Convex value for equality lookups."""
    if value is UNDEFINED:
        return MISSING_KEY
    return orjson.dumps(to_json(value), option=orjson.OPT_SORT_KEYS)


def filter_keys(doc: dict[str, Any], fields: tuple[str, ...]) -> tuple[bytes, ...]:
    """One key per filter field of the index, in index order."""
    return tuple(value_key(field_value(doc, f)) for f in fields)


def _literal(obj: Any, where: str) -> Any:
    if not isinstance(obj, dict) or set(obj) != {"$literal"}:
        raise SearchError(f"{where}: expected a literal value, got {obj!r}")
    try:
        return from_json(obj["$literal"])
    except ConvexValueError as exc:
        raise SearchError(f"{where}: {exc}") from None


def parse_vector_filter(
    expr: Any, filter_fields: tuple[str, ...], index: str
) -> list[tuple[int, bytes]] | None:
    """The serialized `q.or(q.eq(field, value), ...)` filter as (field position, key) pairs,
    any of which may match; None means no filter."""
    if expr is None:
        return None
    where = f"Vector search on {index}"
    clauses = expr["$or"] if isinstance(expr, dict) and set(expr) == {"$or"} else [expr]
    if not isinstance(clauses, list):
        raise SearchError(f"{where}: $or needs a list of expressions")
    out: list[tuple[int, bytes]] = []
    for clause in clauses:
        if isinstance(clause, dict) and set(clause) == {"$or"}:
            nested = parse_vector_filter(clause, filter_fields, index)
            out.extend(nested or [])
            continue
        if not isinstance(clause, dict) or set(clause) != {"$eq"}:
            raise SearchError(f"{where}: filters may only use q.eq and q.or, got {clause!r}")
        pair = clause["$eq"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise SearchError(f"{where}: malformed q.eq expression {clause!r}")
        field_expr, value_expr = pair
        if not isinstance(field_expr, dict) or set(field_expr) != {"$field"}:
            raise SearchError(f"{where}: q.eq must compare a field with a value")
        field = field_expr["$field"]
        if field not in filter_fields:
            raise SearchError(
                f"{where}: {field!r} is not a filter field of the index "
                f"(filter fields: {', '.join(filter_fields) or 'none'})"
            )
        out.append((filter_fields.index(field), value_key(_literal(value_expr, where))))
    return out
