"""Index key bytes sort exactly as Convex orders values; ranges map to the right intervals."""

from __future__ import annotations

import functools
import itertools
import math
import random
import struct
from typing import Any

import pytest

from dataplane.storage.keys import encode_value, prefix_successor, range_bounds
from dataplane.values import UNDEFINED, ConvexValueError, to_json

RANK = {type(None): 1, int: 2, float: 3, bool: 4, str: 5, bytes: 6, list: 7, dict: 8}


def _rank(v: Any) -> int:
    return 0 if v is UNDEFINED else RANK[type(v)]


def _float_key(x: float) -> int:
    """IEEE total order, written independently of the encoder via signed-int reinterpretation."""
    (i,) = struct.unpack("<q", struct.pack("<d", x))
    return i if i >= 0 else -(2**63) - i - 1


def reference_cmp(a: Any, b: Any) -> int:
    """Convex's documented order: undefined<null<int64<float64<bool<string<bytes<array<object."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 0 or ra == 1:
        return 0
    if type(a) is float:
        ka, kb = _float_key(a), _float_key(b)
        return (ka > kb) - (ka < kb)
    if type(a) is str:
        ea, eb = a.encode(), b.encode()
        return (ea > eb) - (ea < eb)
    if type(a) in (list, dict):
        ia = list(a) if type(a) is list else sorted(a.items())
        ib = list(b) if type(b) is list else sorted(b.items())
        for x, y in zip(ia, ib, strict=False):
            c = (
                reference_cmp(x, y)
                if type(a) is list
                else (reference_cmp(x[0], y[0]) or reference_cmp(x[1], y[1]))
            )
            if c:
                return c
        return (len(ia) > len(ib)) - (len(ia) < len(ib))
    return (a > b) - (a < b)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([0, 1, -1, 2**63 - 1, -(2**63), rng.randrange(-1000, 1000)])
    if kind == 2:
        return rng.choice(
            [0.0, -0.0, 1.5, -1.5, math.inf, -math.inf, 1e300, -1e-300, rng.uniform(-100, 100)]
        )
    if kind == 3:
        return rng.random() < 0.5
    if kind == 4:
        return "".join(rng.choice("ab\x00\u00e9\U0001f600") for _ in range(rng.randrange(4)))
    if kind == 5:
        return bytes(rng.choice([0, 1, 255]) for _ in range(rng.randrange(4)))
    if kind == 6:
        return UNDEFINED
    if kind == 7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice("abc"): _random_value(rng, depth + 1) for _ in range(rng.randrange(3))}


def _clean(v: Any) -> Any:
    """UNDEFINED cannot live inside arrays/objects; swap it for null there."""
    if type(v) is list:
        return [None if x is UNDEFINED else _clean(x) for x in v]
    if type(v) is dict:
        return {k: None if x is UNDEFINED else _clean(x) for k, x in v.items()}
    return v


def test_encoding_order_matches_reference_order() -> None:
    rng = random.Random(1234)
    values = [_clean(_random_value(rng)) for _ in range(1500)]
    by_bytes = sorted(values, key=encode_value)
    for a, b in itertools.pairwise(by_bytes):
        assert reference_cmp(a, b) <= 0, (a, b)
    by_ref = sorted(values, key=functools.cmp_to_key(reference_cmp))
    for a, b in itertools.pairwise(by_ref):
        assert encode_value(a) <= encode_value(b), (a, b)


def test_tuple_prefixes_stay_contiguous() -> None:
    a = encode_value("a") + encode_value(5.0)
    ab = encode_value("a\x00") + encode_value(1.0)
    b = encode_value("b")
    assert a < ab < b
    succ = prefix_successor(encode_value("a"))
    assert succ is not None and a < succ <= ab
    assert prefix_successor(b"\xff\xff") is None
    assert prefix_successor(b"\x01\xff") == b"\x02"


def test_range_bounds() -> None:
    fields = ("channel", "n", "_creationTime")
    lo, hi = range_bounds("t.i", fields, [{"type": "Eq", "fieldPath": "channel", "value": "x"}])
    inside = encode_value("x") + encode_value(3.0)
    outside = encode_value("y")
    assert lo <= inside < hi and not (lo <= outside < hi)  # type: ignore[operator]
    lo, hi = range_bounds(
        "t.i",
        fields,
        [
            {"type": "Eq", "fieldPath": "channel", "value": "x"},
            {"type": "Gt", "fieldPath": "n", "value": to_json(3.0)},
            {"type": "Lte", "fieldPath": "n", "value": to_json(5.0)},
        ],
    )

    def key(n: float) -> bytes:
        return encode_value("x") + encode_value(n) + encode_value(1.0) + b"\x00" * 16

    assert hi is not None
    assert not lo <= key(3.0) < hi
    assert lo <= key(4.0) < hi
    assert lo <= key(5.0) < hi
    assert not lo <= key(5.5) < hi
    assert range_bounds("t.i", fields, []) == (b"", None)


@pytest.mark.parametrize(
    "exprs",
    [
        [{"type": "Eq", "fieldPath": "n", "value": 1.0}],
        [
            {"type": "Gt", "fieldPath": "channel", "value": "a"},
            {"type": "Eq", "fieldPath": "n", "value": 1.0},
        ],
        [
            {"type": "Gt", "fieldPath": "channel", "value": "a"},
            {"type": "Gte", "fieldPath": "channel", "value": "b"},
        ],
        [{"type": "Like", "fieldPath": "channel", "value": "a"}],
    ],
)
def test_invalid_ranges_rejected(exprs: list[dict[str, Any]]) -> None:
    with pytest.raises(ConvexValueError):
        range_bounds("t.i", ("channel", "n", "_creationTime"), exprs)
