"""A table's shape for generated_schema.jsonl, inferred from its top-level fields.

With a real shape, clean-JSON strings of a field that only ever holds int64 (or bytes, or
strings) decode without per-document hints, so importing a large table does not have to
keep one hint per document in memory. Nested values are declared `unknown` and keep their
hints. The shape string uses Convex's syntax, so Convex's importer reads it too.
"""

from __future__ import annotations

import math
from typing import Any

from .cleanjson import INFER, Context
from .shapes import parse_shape, string_contexts

_SYSTEM = ("_id", "_creationTime")


def _kind(value: Any) -> str:
    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "boolean"
    if t is int:
        return "int64"
    if t is float:
        negative_zero = value == 0 and math.copysign(1.0, value) < 0
        # NaN, infinities and -0 have their own shapes in Convex; float64 covers them all.
        return "normalfloat64" if math.isfinite(value) and not negative_zero else "float64"
    if t is str:
        return "string"
    if t is bytes:
        return "bytes"
    return "unknown"


class TableShape:
    """Accumulates the kinds of each top-level field over a table's documents."""

    def __init__(self, table_number: int) -> None:
        self.table_number = table_number
        self.docs = 0
        self.kinds: dict[str, set[str]] = {}
        self.present: dict[str, int] = {}

    def add(self, doc: dict[str, Any]) -> None:
        self.docs += 1
        for name, value in doc.items():
            if name in _SYSTEM:
                continue
            self.kinds.setdefault(name, set()).add(_kind(value))
            self.present[name] = self.present.get(name, 0) + 1

    def field_shape(self, name: str) -> str:
        kinds = self.kinds[name]
        if "unknown" in kinds:
            return "unknown"
        if "float64" in kinds:
            kinds = kinds - {"normalfloat64"}
        return " | ".join(sorted(kinds))

    def shape(self) -> str:
        """The shape string (`never` for an empty table)."""
        if not self.docs:
            return "never"
        fields = [
            '"_creationTime": normalfloat64',
            f'"_id": id<{self.table_number}>',
        ]
        for name in sorted(self.kinds):
            optional = "?" if self.present[name] < self.docs else ""
            fields.append(f'"{name}"{optional}: {self.field_shape(name)}')
        return "{" + ", ".join(fields) + "}"

    def unambiguous_fields(self) -> set[str]:
        """Fields whose exported strings decode one way only (they need no hints)."""
        out = set()
        for name in self.kinds:
            if len(string_contexts((parse_shape(self.field_shape(name)),))) <= 1:
                out.add(name)
        return out


def trim_context(ctx: Context, unambiguous: set[str]) -> Context:
    """A document's hints without the fields the shape already decodes."""
    if not isinstance(ctx, dict):
        return ctx
    kept = {k: v for k, v in ctx.items() if k not in unambiguous}
    return kept or INFER
