"""Checking Convex values against the validator JSON that `v.*` validators export.

Used for function arguments and return values (exportArgs/exportReturns) and, by deploys and
writes, for documents against the schema. Messages follow Convex's: the path, the value and
the validator that rejected it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson

from .values import from_json

IdCheck = Callable[[str, str], bool]


class ValidationError(ValueError):
    """A value does not match its validator; the message names the path."""


def parse_validator(validator_json: str | dict[str, Any] | None) -> dict[str, Any] | None:
    """The validator dict from exportArgs()/exportReturns() output ("null" = no validator)."""
    if validator_json is None:
        return None
    if isinstance(validator_json, str):
        parsed = orjson.loads(validator_json)
        return None if parsed is None else dict(parsed)
    return validator_json


def describe(v: dict[str, Any]) -> str:
    """A validator as the `v.*` expression that would build it."""
    t = v.get("type")
    if t == "literal":
        return f"v.literal({_show(from_json(v.get('value')))})"
    if t == "id":
        return f'v.id("{v.get("tableName")}")'
    if t == "array":
        return f"v.array({describe(v['value'])})"
    if t == "record":
        return f"v.record({describe(v['keys'])}, {describe(v['values']['fieldType'])})"
    if t == "union":
        return "v.union(" + ", ".join(describe(x) for x in v["value"]) + ")"
    if t == "object":
        fields = []
        for name, f in v.get("value", {}).items():
            inner = describe(f["fieldType"])
            fields.append(f"{name}: " + (f"v.optional({inner})" if f.get("optional") else inner))
        return "v.object({" + ", ".join(fields) + "})"
    if t == "bigint":
        return "v.int64()"
    if t == "number":
        return "v.float64()"
    return f"v.{t}()"


def js_number(value: float) -> str:
    """A float64 as Convex prints it in messages: `1` not `1.0` (integral values without a
    fraction); others as JavaScript writes them (`0.25`, `1e-7`, `Infinity`, `NaN`)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return ("-" if value == 0 and math.copysign(1.0, value) < 0 else "") + str(int(value))
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return f"{value}n"
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, bytes):
        return f"ArrayBuffer({len(value)} bytes)"
    if isinstance(value, list):
        return (
            "["
            + ", ".join(_show(x) for x in value[:10])
            + (", ..." if len(value) > 10 else "")
            + "]"
        )
    if isinstance(value, dict):
        items = list(value.items())[:10]
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in items) + "}"
    return repr(value)


def _fail(path: str, value: Any, v: dict[str, Any], why: str = "") -> ValidationError:
    detail = f" ({why})" if why else ""
    return ValidationError(
        f"Value does not match validator{detail}.\n"
        f"Path: {path or '(root)'}\nValue: {_show(value)}\nValidator: {describe(v)}"
    )


def check_value(
    validator: str | dict[str, Any] | None,
    value: Any,
    *,
    path: str = "",
    id_check: IdCheck | None = None,
    allow_system_fields: bool = False,
) -> None:
    """Raise ValidationError unless `value` (a Python Convex value) matches `validator`."""
    v = parse_validator(validator)
    if v is None:
        return
    _check(v, value, path, id_check, allow_system_fields)


def _check(
    v: dict[str, Any], value: Any, path: str, id_check: IdCheck | None, system: bool
) -> None:
    t = v.get("type")
    if t == "any":
        return
    if t == "null":
        if value is not None:
            raise _fail(path, value, v)
    elif t == "boolean":
        if not isinstance(value, bool):
            raise _fail(path, value, v)
    elif t == "number":
        if not isinstance(value, float):
            raise _fail(path, value, v)
    elif t == "bigint":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, value, v)
    elif t == "string":
        if not isinstance(value, str):
            raise _fail(path, value, v)
    elif t == "bytes":
        if not isinstance(value, bytes):
            raise _fail(path, value, v)
    elif t == "literal":
        expected = from_json(v.get("value"))
        if type(expected) is not type(value) or expected != value:
            raise _fail(path, value, v)
    elif t == "id":
        if not isinstance(value, str):
            raise _fail(path, value, v)
        table = str(v.get("tableName"))
        if id_check is not None and not id_check(table, value):
            raise _fail(path, value, v, f"not a valid ID for table {table}")
    elif t == "array":
        if not isinstance(value, list):
            raise _fail(path, value, v)
        for i, item in enumerate(value):
            _check(v["value"], item, f"{path}[{i}]", id_check, False)
    elif t == "record":
        if not isinstance(value, dict):
            raise _fail(path, value, v)
        for key, item in value.items():
            _check(v["keys"], key, f"{path}.{key}(key)", id_check, False)
            _check(v["values"]["fieldType"], item, f"{path}.{key}", id_check, False)
    elif t == "object":
        _check_object(v, value, path, id_check, system)
    elif t == "union":
        for option in v.get("value", []):
            try:
                _check(option, value, path, id_check, system)
                return
            except ValidationError:
                continue
        raise _fail(path, value, v)
    else:
        raise ValidationError(f"Unknown validator type {t!r} at {path or '(root)'}")


def _check_object(
    v: dict[str, Any], value: Any, path: str, id_check: IdCheck | None, system: bool
) -> None:
    if not isinstance(value, dict):
        raise _fail(path, value, v)
    fields: dict[str, Any] = v.get("value", {})
    for name, spec in fields.items():
        if name not in value:
            if not spec.get("optional"):
                raise _fail(f"{path}.{name}", None, spec["fieldType"], "missing required field")
            continue
        _check(spec["fieldType"], value[name], f"{path}.{name}", id_check, False)
    for name in value:
        if name in fields:
            continue
        if system and name in ("_id", "_creationTime"):
            continue
        raise ValidationError(
            f"Object contains extra field `{name}` that is not in the validator.\n"
            f"Path: {path or '(root)'}\nValidator: {describe(v)}"
        )
