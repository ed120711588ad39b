"""Validator JSON checks (args/returns/schema) with Convex-like messages."""

from __future__ import annotations

import pytest

from dataplane.validators import ValidationError, check_value, describe

OBJ = (
    '{"type":"object","value":{"name":{"fieldType":{"type":"string"},"optional":false},'
    '"n":{"fieldType":{"type":"bigint"},"optional":true},'
    '"tags":{"fieldType":{"type":"array","value":{"type":"string"}},"optional":true},'
    '"kind":{"fieldType":{"type":"union","value":[{"type":"literal","value":"a"},'
    '{"type":"literal","value":"b"}]},"optional":true}}}'
)


def test_matching_values_pass() -> None:
    check_value(OBJ, {"name": "x"})
    check_value(OBJ, {"name": "x", "n": 3, "tags": ["a"], "kind": "b"})
    check_value(None, {"anything": 1.0})
    check_value('{"type":"any"}', [1.0, None])
    check_value('{"type":"bytes"}', b"\x00")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"name": 1.0}, "Path: .name"),
        ({"name": "x", "n": 1.5}, "Validator: v.int64()"),
        ({"name": "x", "n": True}, "Path: .n"),
        ({"name": "x", "tags": ["ok", 2.0]}, "Path: .tags[1]"),
        ({"name": "x", "kind": "c"}, 'v.union(v.literal("a"), v.literal("b"))'),
        ({}, "missing required field"),
        ({"name": "x", "extra": 1.0}, "extra field `extra`"),
        ("str", "Path: (root)"),
    ],
)
def test_mismatches_name_the_path(value: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_value(OBJ, value)
    assert fragment in str(info.value)


def test_number_and_int64_are_distinct() -> None:
    check_value('{"type":"number"}', 1.0)
    with pytest.raises(ValidationError):
        check_value('{"type":"number"}', 1)
    with pytest.raises(ValidationError):
        check_value('{"type":"bigint"}', 1.0)


def test_ids_use_the_table_check_and_records() -> None:
    v = '{"type":"id","tableName":"users"}'
    check_value(v, "abc", id_check=lambda t, s: t == "users" and s == "abc")
    with pytest.raises(ValidationError, match="not a valid ID for table users"):
        check_value(v, "zzz", id_check=lambda t, s: False)
    rec = (
        '{"type":"record","keys":{"type":"string"},'
        '"values":{"fieldType":{"type":"number"},"optional":false}}'
    )
    check_value(rec, {"a": 1.0})
    with pytest.raises(ValidationError, match=r"Path: \.a"):
        check_value(rec, {"a": "x"})
    assert describe({"type": "number"}) == "v.float64()"


def test_system_fields_allowed_only_for_documents() -> None:
    doc = {"_id": "x", "_creationTime": 1.0, "name": "n"}
    check_value(OBJ, doc, allow_system_fields=True)
    with pytest.raises(ValidationError, match="extra field `_id`"):
        check_value(OBJ, doc)


def test_numbers_in_messages_print_as_javascript_does() -> None:
    with pytest.raises(ValidationError) as info:
        check_value('{"type":"string"}', 1.0)
    assert "Value: 1\n" in str(info.value)
    with pytest.raises(ValidationError) as info:
        check_value('{"type":"literal","value":2}', 1.5)
    assert "Value: 1.5\nValidator: v.literal(2)" in str(info.value)
    with pytest.raises(ValidationError) as info:
        check_value('{"type":"string"}', [3.0, 0.25])
    assert "Value: [3, 0.25]" in str(info.value)
