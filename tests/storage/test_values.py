"""convex-JSON conversion and document limits."""

from __future__ import annotations

import math

import pytest

from dataplane.values import (
    UNDEFINED,
    ConvexValueError,
    from_json,
    to_json,
    validate_document,
)


def test_int64_wire_form_matches_convex() -> None:
    assert to_json(5) == {"$integer": "BQAAAAAAAAA="}
    assert from_json({"$integer": "BQAAAAAAAAA="}) == 5
    assert to_json(-(2**63)) == {"$integer": "AAAAAAAAAIA="}
    with pytest.raises(ConvexValueError, match="int64"):
        to_json(2**63)


def test_special_floats_and_plain_numbers() -> None:
    assert to_json(1.5) == 1.5
    assert from_json(42) == 42.0 and type(from_json(42)) is float
    for special in (math.inf, -math.inf, -0.0):
        encoded = to_json(special)
        assert set(encoded) == {"$float"}
        back = from_json(encoded)
        assert back == special and math.copysign(1, back) == math.copysign(1, special)
    assert math.isnan(from_json(to_json(math.nan)))
    with pytest.raises(ConvexValueError, match="plain number"):
        from_json(to_json(-0.0) | {"$float": "AAAAAAAA8D8="})  # 1.0 as $float


def test_bytes_bool_nested_roundtrip() -> None:
    value = {"b": b"\x00\xff", "t": True, "n": None, "l": [1, 2.5, "x", [False]], "o": {"k": "v"}}
    wire = to_json(value)
    assert wire["b"] == {"$bytes": "AP8="}
    assert wire["t"] is True
    assert from_json(wire) == value
    assert type(from_json(wire)["l"][0]) is int


def test_reserved_dollar_keys_and_undefined() -> None:
    with pytest.raises(ConvexValueError, match=r"\$foo"):
        from_json({"$foo": 1})
    with pytest.raises(ConvexValueError, match="reserved"):
        from_json({"a": 1, "$b": 2})
    assert from_json({"$undefined": None}) is UNDEFINED
    assert to_json({"a": UNDEFINED, "b": 1.0}) == {"b": 1.0}
    with pytest.raises(ConvexValueError, match="base64"):
        from_json({"$bytes": "not base64!"})
    with pytest.raises(ConvexValueError, match="8 bytes"):
        from_json({"$integer": "AAAA"})


def test_non_convex_values_rejected() -> None:
    with pytest.raises(ConvexValueError, match="set"):
        to_json({"a": {1, 2}})


def test_document_limits() -> None:
    assert validate_document({"a": 1.0}) > 0
    with pytest.raises(ConvexValueError, match="1 MiB"):
        validate_document({"big": "x" * (1 << 20)})
    with pytest.raises(ConvexValueError, match="1025 fields"):
        validate_document({"o": {f"f{i}": 1.0 for i in range(1025)}})
    with pytest.raises(ConvexValueError, match="8193 elements"):
        validate_document({"a": [0.0] * 8193})
    deep: dict = {"x": 1.0}
    for _ in range(17):
        deep = {"x": deep}
    with pytest.raises(ConvexValueError, match="nested"):
        validate_document(deep)
    ok: dict = {"x": 1.0}
    for _ in range(14):
        ok = {"x": ok}
    validate_document(ok)


def test_field_name_rules() -> None:
    with pytest.raises(ConvexValueError, match="reserved for system fields"):
        validate_document({"_secret": 1.0})
    with pytest.raises(ConvexValueError, match="ASCII letters"):
        validate_document({"has space": 1.0})
    with pytest.raises(ConvexValueError, match="maximum field name length 64"):
        validate_document({"a" * 65: 1.0})
    with pytest.raises(ConvexValueError, match=r"starts with a '\$'"):
        validate_document({"o": {"$x": 1.0}})
    with pytest.raises(ConvexValueError, match="invalid character"):
        validate_document({"o": {"tab\there": 1.0}})
    validate_document({"o": {"any printable key!": 1.0}, "_id": "x", "_creationTime": 1.0})
    with pytest.raises(ConvexValueError, match="must be an object"):
        validate_document([1.0])


def test_lone_surrogate_rejected() -> None:
    with pytest.raises(ConvexValueError, match="Unicode"):
        validate_document({"s": "\ud800"})
