"""Field filters of the data browser: `[{field, op, value, enabled}]` clauses, all must match.

Comparisons use Convex's total order of values (the one indexes sort by), so `gt 5` also
orders strings after numbers exactly as a query's `.filter(q.gt(...))` would. The clauses
arrive as a list, as `{clauses: [...]}`, or as that object in JSON or base64 JSON (the shape
Convex's dashboard sends).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ..deploy.errors import DeployError
from ..storage.keys import encode_value, field_value
from ..values import UNDEFINED

MAX_CLAUSES = 16
TYPE_NAMES = {
    str: "string",
    float: "number",
    int: "bigint",
    bool: "boolean",
    type(None): "null",
    bytes: "bytes",
    list: "array",
    dict: "object",
}
_COMPARE: dict[str, Callable[[bytes, bytes], bool]] = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
OPS = (*_COMPARE, "type", "notype")


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    value: Any

    def matches(self, doc: dict[str, Any]) -> bool:
        found = field_value(doc, self.field)
        if self.op in ("type", "notype"):
            name = "undefined" if found is UNDEFINED else TYPE_NAMES.get(type(found), "?")
            return (name == self.value) == (self.op == "type")
        return _COMPARE[self.op](encode_value(found), encode_value(self.value))


def _decode(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text.startswith(("{", "[")):
        try:
            text = base64.b64decode(text, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise DeployError("filters: expected JSON or base64 JSON") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise DeployError("filters: not valid JSON") from None


def _json_numbers(value: Any) -> Any:
    """JSON numbers are float64 in Convex (bigints travel as {"$integer": ...}, not here)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    return value


def parse_filters(raw: Any) -> list[Clause]:
    """The enabled clauses of `raw` (None or empty: no filter); DeployError says what is wrong."""
    if raw is None or raw == "":
        return []
    data = _json_numbers(_decode(raw)) if isinstance(raw, str) else raw
    if isinstance(data, dict):
        data = data.get("clauses", [])
    if not isinstance(data, list):
        raise DeployError("filters: expected a list of clauses")
    if len(data) > MAX_CLAUSES:
        raise DeployError(f"filters: at most {MAX_CLAUSES} clauses")
    out = []
    for i, c in enumerate(data):
        if not isinstance(c, dict):
            raise DeployError(f"filters[{i}]: expected {{field, op, value}}")
        if c.get("enabled") is False:
            continue
        field, op = c.get("field"), c.get("op")
        if not isinstance(field, str) or not field:
            raise DeployError(f"filters[{i}].field: expected a field name (dots for nested)")
        if op not in OPS:
            raise DeployError(f"filters[{i}].op: expected one of {', '.join(OPS)}")
        value = c.get("value")
        if op in ("type", "notype") and value not in (*TYPE_NAMES.values(), "undefined"):
            raise DeployError(f"filters[{i}].value: a type name like 'string' or 'undefined'")
        if op not in ("type", "notype"):
            try:
                encode_value(value)
            except Exception as e:
                raise DeployError(f"filters[{i}].value: {e}") from None
        out.append(Clause(field, str(op), value))
    return out


def matches(doc: dict[str, Any], clauses: list[Clause]) -> bool:
    return all(c.matches(doc) for c in clauses)
