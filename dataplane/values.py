"""Convex values in Python and their convex-JSON wire form, plus the document limits.

Mapping: None=null, bool, float=float64 (number), int=int64 (bigint), str, bytes, list, dict.
`bool` is an `int` subclass, so every check tests bool first.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from typing import Any, Final

Value = Any  # None | bool | int | float | str | bytes | list[Value] | dict[str, Value]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

MAX_DOCUMENT_SIZE: Final = 1 << 20
MAX_FIELDS: Final = 1024
MAX_DEPTH: Final = 16
MAX_ARRAY_LEN: Final = 8192
MAX_TOP_LEVEL_FIELD_LEN: Final = 64
MAX_NESTED_FIELD_LEN: Final = 1024
SYSTEM_FIELDS: Final = frozenset({"_id", "_creationTime"})


class ConvexValueError(ValueError):
    """A value that Convex cannot represent or that breaks a documented limit."""


class _Undefined:
    """Marker for `{"$undefined": null}`: in a patch it removes the field."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()

_pack_q = struct.Struct("<q").pack
_unpack_q = struct.Struct("<q").unpack
_pack_d = struct.Struct("<d").pack
_unpack_d = struct.Struct("<d").unpack


def _is_special_float(x: float) -> bool:
    return not math.isfinite(x) or (x == 0.0 and math.copysign(1.0, x) < 0)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def to_json(value: Value, path: str = "") -> Any:
    """Convert a Python Convex value into JSON-able convex-JSON."""
    t = type(value)
    if t is str or value is None or t is bool:
        return value
    if t is float:
        if _is_special_float(value):
            return {"$float": _b64(_pack_d(value))}
        return value
    if t is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise ConvexValueError(
                f"Integer {value} at {path or 'top level'} does not fit in int64"
            )
        return {"$integer": _b64(_pack_q(value))}
    if t is dict:
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise ConvexValueError(f"Object key {k!r} at {path or 'top level'} is not a string")
            if v is UNDEFINED:
                continue
            out[k] = to_json(v, f"{path}.{k}" if path else k)
        return out
    if t is list or t is tuple:
        return [to_json(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if t is bytes or t is bytearray or t is memoryview:
        return {"$bytes": _b64(bytes(value))}
    if value is UNDEFINED:
        return {"$undefined": None}
    raise ConvexValueError(
        f"Value of type {t.__name__} at {path or 'top level'} is not a Convex value"
    )


def _decode_b64(text: Any, size: int | None, what: str, path: str) -> bytes:
    if not isinstance(text, str):
        raise ConvexValueError(f"{what} at {path or 'top level'} must hold a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ConvexValueError(f"{what} at {path or 'top level'} is not valid base64") from exc
    if size is not None and len(raw) != size:
        raise ConvexValueError(f"{what} at {path or 'top level'} must decode to {size} bytes")
    return raw


def from_json(obj: Any, path: str = "") -> Value:
    """Convert convex-JSON into a Python Convex value (JSON numbers become float)."""
    t = type(obj)
    if t is str or obj is None or t is bool or t is float:
        return obj
    if t is int:
        return float(obj)
    if t is list:
        return [from_json(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    if t is dict:
        if len(obj) == 1:
            ((key, inner),) = obj.items()
            if key.startswith("$"):
                return _from_special(key, inner, path)
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if k.startswith("$"):
                raise ConvexValueError(
                    f"Field name {k} at {path or 'top level'} starts with a '$', which is reserved"
                )
            out[k] = from_json(v, f"{path}.{k}" if path else k)
        return out
    raise ConvexValueError(f"Unsupported JSON value of type {t.__name__} at {path or 'top level'}")


def _from_special(key: str, inner: Any, path: str) -> Value:
    if key == "$integer":
        return _unpack_q(_decode_b64(inner, 8, "$integer", path))[0]
    if key == "$float":
        f = _unpack_d(_decode_b64(inner, 8, "$float", path))[0]
        if not _is_special_float(f):
            raise ConvexValueError(
                f"$float at {path or 'top level'} holds {f}, which must be a plain number"
            )
        return f
    if key == "$bytes":
        return _decode_b64(inner, None, "$bytes", path)
    if key == "$undefined":
        return UNDEFINED
    raise ConvexValueError(
        f"Field name {key} at {path or 'top level'} starts with a '$', which is reserved"
    )


def _check_string(s: str, path: str) -> int:
    try:
        return len(s.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ConvexValueError(
            f"String at {path or 'top level'} is not valid Unicode (lone surrogate)"
        ) from exc


_TOP_LEVEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")
_NESTED_NAME = re.compile(r"[ -#%-~][ -~]{0,1023}\Z")  # printable ASCII, not starting with $


def _check_field_name(name: Any, path: str, top_level: bool) -> None:
    if type(name) is str and (
        (_TOP_LEVEL_NAME.match(name) and (name[0] != "_" or name in SYSTEM_FIELDS))
        if top_level
        else _NESTED_NAME.match(name)
    ):
        return  # the common, valid case; below explains what is wrong otherwise
    where = path or "top level"
    if type(name) is not str:
        raise ConvexValueError(f"Field name {name!r} at {where} is not a string")
    if not name:
        raise ConvexValueError(f"Empty field name at {where}")
    if top_level:
        if len(name) > MAX_TOP_LEVEL_FIELD_LEN:
            raise ConvexValueError(
                f"Field name {name} exceeds maximum field name length {MAX_TOP_LEVEL_FIELD_LEN}"
            )
        if not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")) or not all(
            c.isascii() and (c.isalnum() or c == "_") for c in name
        ):
            raise ConvexValueError(
                f"Field name {name} must contain only ASCII letters, digits and underscores "
                "and start with a letter or underscore"
            )
        if name.startswith("_") and name not in SYSTEM_FIELDS:
            raise ConvexValueError(
                f"Field name {name} starts with '_', which is reserved for system fields"
            )
        return
    if len(name) > MAX_NESTED_FIELD_LEN:
        raise ConvexValueError(
            f"Field name {name[:40]}... at {where} exceeds maximum field name length "
            f"{MAX_NESTED_FIELD_LEN}"
        )
    if name.startswith("$"):
        raise ConvexValueError(f"Field name {name} at {where} starts with a '$', which is reserved")
    for c in name:
        if not 32 <= ord(c) < 127:
            raise ConvexValueError(f"Field name {name!r} at {where} has invalid character {c!r}")


def value_size(value: Value, path: str = "", depth: int = 0) -> int:
    """Check a value against the nesting/array/field limits and return its size in bytes."""
    if depth > MAX_DEPTH:
        raise ConvexValueError(
            f"Value at {path} is nested {depth} levels deep, more than the maximum {MAX_DEPTH}"
        )
    t = type(value)
    if value is None or t is bool:
        return 1
    if t is float:
        return 9
    if t is int:
        if not INT64_MIN <= value <= INT64_MAX:
            raise ConvexValueError(
                f"Integer {value} at {path or 'top level'} does not fit in int64"
            )
        return 9
    if t is str:
        return _check_string(value, path) + 2
    if t is bytes:
        return len(value) + 2
    if t is list:
        if len(value) > MAX_ARRAY_LEN:
            raise ConvexValueError(
                f"Array at {path or 'top level'} has {len(value)} elements, "
                f"more than the maximum {MAX_ARRAY_LEN}"
            )
        return 2 + sum(value_size(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
    if t is dict:
        if len(value) > MAX_FIELDS:
            raise ConvexValueError(
                f"Object at {path or 'top level'} has {len(value)} fields, "
                f"more than the maximum {MAX_FIELDS}"
            )
        size = 2
        for k, v in value.items():
            _check_field_name(k, path, top_level=depth == 0)
            sub = f"{path}.{k}" if path else k
            size += _check_string(k, sub) + 1 + value_size(v, sub, depth + 1)
        return size
    if value is UNDEFINED:
        raise ConvexValueError(f"undefined at {path or 'top level'} is not a storable value")
    raise ConvexValueError(
        f"Value of type {t.__name__} at {path or 'top level'} is not a Convex value"
    )


def validate_document(value: Value) -> int:
    """Enforce Convex's document limits on a top-level document; return its size in bytes."""
    if type(value) is not dict:
        raise ConvexValueError(f"A document must be an object, not {type(value).__name__}")
    size = value_size(value)
    if size > MAX_DOCUMENT_SIZE:
        raise ConvexValueError(
            f"Document is {size} bytes, more than the maximum {MAX_DOCUMENT_SIZE} bytes (1 MiB)"
        )
    return size
