"""Request args and response values in the HTTP API's formats.

`convex_encoded_json` (alias `convex_json`) is lossless convex-JSON; `json` (alias
`convex_cleaned_json`/`convex_clean_json`, the default) is plain JSON: int64 as a decimal
string, bytes as base64, non-finite floats as strings.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from ..deploy.errors import DeployError
from ..values import ConvexValueError, from_json, to_json

ENCODED = frozenset({"convex_encoded_json", "convex_json"})
CLEAN = frozenset({"json", "convex_clean_json", "convex_cleaned_json"})


def parse_args(raw: Any) -> dict[str, Any]:
    """Args as sent: an object or a one-element array holding it (convex-JSON encoded)."""
    if raw is None:
        raw = {}
    if isinstance(raw, list):
        if len(raw) != 1:
            raise DeployError("`args` must be an object or a one-element array of an object")
        raw = raw[0]
    if not isinstance(raw, dict):
        raise DeployError("`args` must be an object", code="BadJsonBody")
    try:
        value = from_json(raw)
    except ConvexValueError as e:
        raise DeployError(f"Invalid args: {e}", code="BadConvexValue") from e
    assert isinstance(value, dict)
    return value


def format_value(value: Any, fmt: str) -> Any:
    """Encode a result value in the requested format."""
    if fmt in ENCODED:
        return to_json(value)
    if fmt in CLEAN:
        return clean_json(value)
    raise DeployError(f"Unknown format {fmt!r}: use convex_encoded_json or json", code="BadFormat")


def clean_json(value: Any) -> Any:
    """The lossy plain-JSON rendering of a Convex value."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_json(v) for k, v in value.items()}
    raise DeployError(f"Cannot encode value of type {type(value).__name__}", status=500)
