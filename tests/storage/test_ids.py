"""Document ids encode the table and reject corruption."""

from __future__ import annotations

from dataplane.ids import decode_id, encode_id, new_internal_id


def test_roundtrip_and_length() -> None:
    for table in (1, 127, 128, 10_001, 2**20):
        internal = new_internal_id()
        text = encode_id(table, internal)
        assert 31 <= len(text) <= 37
        parts = decode_id(text)
        assert parts is not None
        assert (parts.table_number, parts.internal) == (table, internal)


def test_rejects_corruption() -> None:
    for internal in (bytes(range(16)), b"\x42" * 16):
        text = encode_id(10_001, internal)
        for i in range(len(text)):
            for c in "0z":
                if text[i] != c:
                    assert decode_id(text[:i] + c + text[i + 1 :]) is None, (text, i, c)
    assert decode_id("") is None
    assert decode_id("hello") is None
    assert decode_id(text.upper()) is None
    assert decode_id(text + "0") is None
    assert decode_id(123) is None  # type: ignore[arg-type]


def test_ids_of_one_table_sort_like_their_bytes() -> None:
    internals = sorted(new_internal_id() for _ in range(200))
    encoded = [encode_id(10_001, i) for i in internals]
    assert encoded == sorted(encoded)
