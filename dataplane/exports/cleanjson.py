"""Convex's "clean JSON" export form of values, and its per-document decoding hints.

Exports are meant to be readable: int64 becomes a decimal string, bytes a base64 string and
NaN/Infinity strings too. To round-trip, a document whose values cannot be told apart from
plain strings carries an "export context" in generated_schema.jsonl ("int64", "bytes",
"float64inf", {"$float64NaN": b64}, arrays and objects of those), the format Convex uses.
`context_of` computes it as if the table's shape were `unknown`; inference.py then drops the
hints of fields the inferred shape already decodes.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from ..values import ConvexValueError
from .shapes import Shape, array_element, object_field, string_context

Context = Any  # "infer" | "int64" | "bytes" | "float64inf" | ("nan", bytes) | list | dict
INFER = "infer"


def to_clean(value: Any) -> Any:
    """A Python Convex value as clean JSON."""
    t = type(value)
    if t is str or value is None or t is bool:
        return value
    if t is float:
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if t is int:
        return str(value)
    if t is bytes:
        return base64.b64encode(value).decode("ascii")
    if t is list:
        return [to_clean(v) for v in value]
    if t is dict:
        return {k: to_clean(v) for k, v in value.items()}
    raise ConvexValueError(f"Cannot export a value of type {t.__name__}")


def context_of(value: Any) -> Context:
    """The export context of a value in an `unknown`-shaped table ("infer" if none needed)."""
    t = type(value)
    if t is int:
        return "int64"
    if t is bytes:
        return "bytes"
    if t is float:
        if math.isnan(value):
            return ("nan", struct.pack("<d", value))
        return "float64inf" if math.isinf(value) else INFER
    if t is list:
        items = [context_of(v) for v in value]
        return items if any(c != INFER for c in items) else INFER
    if t is dict:
        fields = {k: c for k, v in value.items() if (c := context_of(v)) != INFER}
        return fields or INFER
    return INFER


def context_to_json(ctx: Context) -> Any:
    if isinstance(ctx, tuple):
        return {"$float64NaN": base64.b64encode(ctx[1]).decode("ascii")}
    if isinstance(ctx, list):
        return [context_to_json(c) for c in ctx]
    if isinstance(ctx, dict):
        return {k: context_to_json(v) for k, v in ctx.items()}
    return ctx


def context_from_json(raw: Any) -> Context:
    """Parse a context from generated_schema.jsonl; ValueError if malformed."""
    if isinstance(raw, str):
        if raw in ("infer", "int64", "float64inf", "bytes"):
            return raw
        raise ValueError(f"unsupported export context {raw!r}")
    if isinstance(raw, list):
        return [context_from_json(c) for c in raw]
    if isinstance(raw, dict):
        if "$float64NaN" in raw:
            nan = base64.b64decode(str(raw["$float64NaN"]))
            if len(nan) != 8 or not math.isnan(struct.unpack("<d", nan)[0]):
                raise ValueError("$float64NaN must hold the 8 bytes of a NaN")
            return ("nan", nan)
        return {str(k): context_from_json(v) for k, v in raw.items()}
    raise ValueError(f"unsupported export context {raw!r}")


def from_clean(raw: Any, ctx: Context, options: tuple[Shape, ...]) -> Any:
    """Decode clean JSON back to a value, guided by its context and the table shape."""
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        if ctx == INFER:
            ctx = string_context(options) or INFER
        return _string(raw, ctx)
    if isinstance(raw, list):
        inner = array_element(options)
        if ctx == INFER:
            return [from_clean(v, INFER, inner) for v in raw]
        if not isinstance(ctx, list) or len(ctx) != len(raw):
            raise ConvexValueError("export context does not match an array value")
        return [from_clean(v, c, inner) for v, c in zip(raw, ctx, strict=True)]
    if isinstance(raw, dict):
        if ctx != INFER and not isinstance(ctx, dict):
            raise ConvexValueError("export context does not match an object value")
        hints: dict[str, Context] = {} if ctx == INFER else ctx
        return {
            k: from_clean(v, hints.get(k, INFER), object_field(options, k)) for k, v in raw.items()
        }
    raise ConvexValueError(f"unexpected JSON value {raw!r}")


def _string(raw: str, ctx: Context) -> Any:
    if ctx == INFER:
        return raw
    if ctx == "int64":
        try:
            n = int(raw)
        except ValueError:
            raise ConvexValueError(f"{raw[:40]!r} is not an int64") from None
        if not -(2**63) <= n < 2**63:
            raise ConvexValueError(f"{raw[:40]} does not fit in int64")
        return n
    if ctx == "bytes":
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:
            raise ConvexValueError(f"{raw[:40]!r} is not base64 bytes") from None
    if ctx == "float64inf":
        if raw in ("Infinity", "-Infinity"):
            return math.inf if raw == "Infinity" else -math.inf
        raise ConvexValueError(f"{raw[:40]!r} is not Infinity or -Infinity")
    if isinstance(ctx, tuple) and raw == "NaN":
        value: float = struct.unpack("<d", ctx[1])[0]
        return value
    raise ConvexValueError(f"export context does not match the string {raw[:40]!r}")
