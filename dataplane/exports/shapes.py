"""Convex's pretty-printed table shapes (generated_schema.jsonl line 1), parsed for import.

An export writes values as "clean" JSON, where int64, bytes and special floats all become
strings; the table's shape says which a string really was. Only the parts import needs are
modelled: parsing, and which decodings a string may have at a position in the shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ShapeParseError(ValueError):
    """generated_schema.jsonl holds a shape this parser does not understand."""


@dataclass(frozen=True)
class Shape:
    """One shape node: `kind` plus children (elements, fields, union options)."""

    kind: str
    children: tuple[Shape, ...] = ()
    fields: dict[str, Shape] = field(default_factory=dict, hash=False, compare=False)

    def options(self) -> tuple[Shape, ...]:
        return self.children if self.kind == "union" else (self,)


UNKNOWN = Shape("unknown")
# Longest-first where one unit is a prefix of another ("-inf"/"-0", "inf"/"int64" differ).
_UNITS = (
    "never",
    "null",
    "int64",
    "float64",
    "-inf",
    "-0",
    "inf",
    "NaN",
    "normalfloat64",
    "boolean",
    "field_name",
    "string",
    "bytes",
    "unknown",
)


def parse_shape(text: str) -> Shape:
    """Parse a shape string such as `{"n": int64, "tags"?: array<string>}`."""
    shape, rest = _union(text)
    if rest:
        raise ShapeParseError(f"unexpected text {rest[:40]!r} in table shape")
    return shape


def _union(s: str) -> tuple[Shape, str]:
    parts = []
    while True:
        part, s = _one(s)
        parts.append(part)
        if s.startswith(" | "):
            s = s[3:]
            continue
        break
    return (parts[0] if len(parts) == 1 else Shape("union", tuple(parts))), s


def _until(s: str, terminator: str) -> tuple[str, str]:
    i = s.find(terminator)
    if i < 0:
        raise ShapeParseError(f"expected {terminator!r} in table shape near {s[:40]!r}")
    return s[:i], s[i + len(terminator) :]


def _expect(s: str, terminator: str) -> str:
    if not s.startswith(terminator):
        raise ShapeParseError(f"expected {terminator!r} in table shape near {s[:40]!r}")
    return s[len(terminator) :]


def _one(s: str) -> tuple[Shape, str]:
    for unit in _UNITS:
        if s.startswith(unit):
            return Shape(unit), s[len(unit) :]
    if s.startswith("{"):
        s = s[1:]
        fields: dict[str, Shape] = {}
        while not s.startswith("}"):
            name, s = _until(s, ": ")
            name = name.removesuffix("?")
            if len(name) < 2 or name[0] != '"' or name[-1] != '"':
                raise ShapeParseError(f"cannot parse object key {name!r} in table shape")
            fields[name[1:-1]], s = _union(s)
            if s.startswith(", "):
                s = s[2:]
            elif not s.startswith("}"):
                raise ShapeParseError(f"unexpected text {s[:40]!r} in table shape")
        return Shape("object", (), fields), s[1:]
    for prefix, kind, arity in (
        ("array<", "array", 1),
        ("set<", "set", 1),
        ("map<", "map", 2),
        ("record<", "record", 2),
    ):
        if s.startswith(prefix):
            s = s[len(prefix) :]
            children = []
            for i in range(arity):
                child, s = _union(s)
                s = _expect(s, ">" if i == arity - 1 else ", ")
                children.append(child)
            return Shape(kind, tuple(children)), s
    if s.startswith("id<"):
        number, s = _until(s[3:], ">")
        if not number.isdigit():
            raise ShapeParseError(f"bad table number {number!r} in table shape")
        return Shape("id"), s
    if s.startswith('"'):
        _, s = _until(s[1:], '"')
        return Shape("literal"), s
    raise ShapeParseError(f"unexpected text {s[:40]!r} in table shape")


def array_element(options: tuple[Shape, ...]) -> tuple[Shape, ...]:
    """Shapes an element of an array at this position may have."""
    out: list[Shape] = []
    for shape in options:
        for o in shape.options():
            if o.kind == "array":
                out.append(o.children[0])
            elif o.kind == "unknown":
                out.append(o)
    return tuple(out)


def object_field(options: tuple[Shape, ...], name: str) -> tuple[Shape, ...]:
    """Shapes the value of field `name` of an object at this position may have."""
    out: list[Shape] = []
    for shape in options:
        for o in shape.options():
            if o.kind == "object" and name in o.fields:
                out.append(o.fields[name])
            elif o.kind == "record":
                out.append(o.children[1])
            elif o.kind == "unknown":
                out.append(o)
    return tuple(out)


_STRING_CONTEXTS = {
    "int64": ("int64",),
    "-inf": ("float64inf",),
    "inf": ("float64inf",),
    "NaN": ("nan", "float64inf"),
    "float64": ("nan", "float64inf"),
    "literal": ("infer",),
    "id": ("infer",),
    "field_name": ("infer",),
    "string": ("infer",),
    "bytes": ("bytes",),
    "unknown": ("infer", "float64inf", "nan", "int64", "bytes"),
}


def string_contexts(options: tuple[Shape, ...]) -> set[str]:
    """The ways a string at this position may decode ("infer", "int64", "bytes", ...)."""
    found: set[str] = set()
    for shape in options:
        for o in shape.options():
            found.update(_STRING_CONTEXTS.get(o.kind, ()))
    return found


def string_context(options: tuple[Shape, ...]) -> str | None:
    """How a string at this position decodes when only one reading is possible, else None."""
    found = string_contexts(options)
    return next(iter(found)) if len(found) == 1 else None
