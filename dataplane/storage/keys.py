"""Order-preserving byte encoding of index keys, so SQL can range-scan BLOB/bytea columns.

Convex's total order is undefined < null < int64 < float64 < boolean < string < bytes < array
< object. Each value gets a type tag in that order followed by a self-delimiting body, so the
bytewise order of concatenated encodings equals the order of the value tuples and every key
prefix covers a contiguous range.
"""

from __future__ import annotations

import struct
from typing import Any

from ..ids import decode_id
from ..values import UNDEFINED, ConvexValueError, Value, from_json

TAG_UNDEFINED = 0x01
TAG_NULL = 0x02
TAG_INT = 0x03
TAG_FLOAT = 0x04
TAG_BOOL = 0x05
TAG_STRING = 0x06
TAG_BYTES = 0x07
TAG_ARRAY = 0x08
TAG_OBJECT = 0x09

_pack_Q = struct.Struct(">Q").pack
_pack_d_bits = struct.Struct(">d").pack
_unpack_Q = struct.Struct(">Q").unpack
_SIGN = 1 << 63
_MASK = (1 << 64) - 1
_ESC_STR_END = b"\x00\x00"


def _escape(raw: bytes) -> bytes:
    return raw.replace(b"\x00", b"\x00\xff") + _ESC_STR_END


def encode_value(value: Value) -> bytes:
    """Encode one value (UNDEFINED = missing field) preserving Convex's order."""
    t = type(value)
    if t is str:
        return b"\x06" + _escape(value.encode("utf-8", "surrogatepass"))
    if t is float:
        bits = _unpack_Q(_pack_d_bits(value))[0]
        bits = (~bits & _MASK) if bits & _SIGN else bits | _SIGN
        return b"\x04" + _pack_Q(bits)
    if value is None:
        return b"\x02"
    if t is bool:
        return b"\x05\x01" if value else b"\x05\x00"
    if t is int:
        return b"\x03" + _pack_Q((value + _SIGN) & _MASK)
    if value is UNDEFINED:
        return b"\x01"
    if t is bytes:
        return b"\x07" + _escape(value)
    if t is list:
        return b"\x08" + b"".join(encode_value(v) for v in value) + b"\x00"
    if t is dict:
        parts = [b"\x09"]
        for k in sorted(value):
            parts.append(b"\x01" + _escape(k.encode("utf-8", "surrogatepass")))
            parts.append(encode_value(value[k]))
        parts.append(b"\x00")
        return b"".join(parts)
    raise ConvexValueError(f"Cannot index a value of type {t.__name__}")


def field_value(doc: dict[str, Any], path: str) -> Value:
    """The value at a dotted field path, or UNDEFINED when absent."""
    if "." not in path:
        return doc.get(path, UNDEFINED)
    cur: Any = doc
    for part in path.split("."):
        if type(cur) is not dict or part not in cur:
            return UNDEFINED
        cur = cur[part]
    return cur


def index_key(doc: dict[str, Any], fields: tuple[str, ...], internal_id: bytes) -> bytes:
    """The key of a document in an index: encoded field values then the id for uniqueness."""
    if len(fields) == 1 and "." not in fields[0]:
        return encode_value(doc.get(fields[0], UNDEFINED)) + internal_id
    return b"".join(encode_value(field_value(doc, f)) for f in fields) + internal_id


def prefix_successor(prefix: bytes) -> bytes | None:
    """Smallest byte string greater than every string starting with `prefix` (None = +inf)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def range_bounds(
    index_name: str, fields: tuple[str, ...], range_exprs: list[dict[str, Any]]
) -> tuple[bytes, bytes | None]:
    """Turn Convex IndexRange expressions into a half-open key interval [lo, hi).

    Expressions must be equalities on a prefix of the index fields, then at most one lower and
    one upper bound on the next field - exactly what `withIndex` range builders can produce.
    Every index ends with the document id (its keys do), so, as on Convex, `_id` may follow
    the last field: paginating helpers resume after (`_creationTime`, `_id`) that way.
    """
    if "_id" not in fields:
        fields = (*fields, "_id")
    eq: list[Value] = []
    lower: tuple[str, Value] | None = None
    upper: tuple[str, Value] | None = None
    bound_field: str | None = None
    for expr in range_exprs:
        if not isinstance(expr, dict):
            raise ConvexValueError(f"Invalid index range expression {expr!r}")
        kind = expr.get("type")
        path = expr.get("fieldPath")
        if kind not in ("Eq", "Gt", "Gte", "Lt", "Lte"):
            raise ConvexValueError(f"Unknown index range operator {kind!r}")
        value = from_json(expr.get("value")) if "value" in expr else UNDEFINED
        if kind == "Eq":
            if bound_field is not None or len(eq) >= len(fields) or fields[len(eq)] != path:
                raise _order_error(index_name, fields, path)
            eq.append(value)
            continue
        if bound_field is None:
            if len(eq) >= len(fields) or fields[len(eq)] != path:
                raise _order_error(index_name, fields, path)
            bound_field = path
        elif path != bound_field:
            raise _order_error(index_name, fields, path)
        if kind in ("Gt", "Gte"):
            if lower is not None:
                raise ConvexValueError(f"Index range on {index_name} has two lower bounds")
            lower = (kind, value)
        else:
            if upper is not None:
                raise ConvexValueError(f"Index range on {index_name} has two upper bounds")
            upper = (kind, value)
    id_at = len(fields) - 1 if fields[-1] == "_id" and len(fields) > 1 else -1

    def enc_at(i: int, value: Value) -> bytes:
        return _internal_id(index_name, value) if i == id_at else encode_value(value)

    prefix = b"".join(enc_at(i, v) for i, v in enumerate(eq))
    if lower is None:
        lo = prefix
    else:
        enc = prefix + enc_at(len(eq), lower[1])
        succ = prefix_successor(enc)
        lo = enc if lower[0] == "Gte" else (succ if succ is not None else b"\xff" * 64)
    if upper is None:
        hi = prefix_successor(prefix) if prefix else None
    else:
        enc = prefix + enc_at(len(eq), upper[1])
        hi = enc if upper[0] == "Lt" else prefix_successor(enc)
    return lo, hi


def _internal_id(index_name: str, value: Value) -> bytes:
    """The key bytes of an `_id` bound: the id's internal part, as index keys end."""
    parts = decode_id(value) if isinstance(value, str) else None
    if parts is None:
        raise ConvexValueError(
            f"Index range on {index_name} compares _id with {value!r}, not an id"
        )
    return parts.internal


def _order_error(index_name: str, fields: tuple[str, ...], path: Any) -> ConvexValueError:
    return ConvexValueError(
        f"Index range on {index_name} uses field {path!r} out of order; "
        f"the index fields are {list(fields)}: compare them in order, equalities first"
    )
