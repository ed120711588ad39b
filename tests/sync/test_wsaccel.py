"""The autobahn fast paths agree with autobahn's own masker and UTF-8 validator."""

from __future__ import annotations

import os

import pytest
from autobahn.websocket import protocol
from autobahn.websocket.utf8validator import Utf8Validator
from autobahn.websocket.xormasker import create_xor_masker

from dataplane.sync import wsaccel


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 127, 128, 1000, 70_000])
def test_matches_autobahn_for_whole_and_split_payloads(size: int) -> None:
    mask = os.urandom(4)
    data = os.urandom(size)
    expected = create_xor_masker(mask, size).process(data)
    assert wsaccel.FastXorMasker(mask).process(data) == expected
    chunked = wsaccel.FastXorMasker(mask)
    out = b"".join(chunked.process(data[i : i + 7]) for i in range(0, size, 7))
    assert out == expected
    assert chunked.pointer() == size
    chunked.reset()
    assert chunked.pointer() == 0


def test_masking_twice_restores_the_payload() -> None:
    mask, data = os.urandom(4), b"hello websocket"
    once = wsaccel.FastXorMasker(mask).process(data)
    assert once != data
    assert wsaccel.FastXorMasker(mask).process(once) == data


def test_install_patches_autobahns_protocol_module() -> None:
    wsaccel.install()
    assert protocol.create_xor_masker is wsaccel.create_fast_masker
    with pytest.raises(ValueError):
        wsaccel.FastXorMasker(b"abc")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain ascii",
        "caf\u00e9 \u20ac \U0001f600".encode(),
        b"\xff\xfe",
        b"ok\xc3",  # ends inside a code point
        b"\xed\xa0\x80",  # a UTF-16 surrogate: invalid in UTF-8
        "\u00e9".encode() * 1000 + b"\x80",
    ],
)
def test_utf8_validator_matches_autobahn(data: bytes) -> None:
    ours, theirs = wsaccel.FastUtf8Validator(), Utf8Validator()
    assert ours.validate(data)[:2] == theirs.validate(data)[:2]
    ours.reset()
    theirs.reset()
    for i in range(0, len(data), 3):  # chunked, as frames arrive in pieces
        a, b = ours.validate(data[i : i + 3]), theirs.validate(data[i : i + 3])
        assert a[:2] == b[:2]
        if not a[0]:
            break


def test_install_patches_the_validator() -> None:
    wsaccel.install()
    assert protocol.Utf8Validator is wsaccel.FastUtf8Validator
