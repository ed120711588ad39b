"""The fast unmasking patch gives the same bytes as autobahn's own masker, chunk by chunk."""

from __future__ import annotations

import os

import pytest
from autobahn.websocket import protocol
from autobahn.websocket.xormasker import create_xor_masker

from dataplane.sync import wsmask


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 127, 128, 1000, 70_000])
def test_matches_autobahn_for_whole_and_split_payloads(size: int) -> None:
    mask = os.urandom(4)
    data = os.urandom(size)
    expected = create_xor_masker(mask, size).process(data)
    assert wsmask.FastXorMasker(mask).process(data) == expected
    chunked = wsmask.FastXorMasker(mask)
    out = b"".join(chunked.process(data[i : i + 7]) for i in range(0, size, 7))
    assert out == expected
    assert chunked.pointer() == size
    chunked.reset()
    assert chunked.pointer() == 0


def test_masking_twice_restores_the_payload() -> None:
    mask, data = os.urandom(4), b"hello websocket"
    once = wsmask.FastXorMasker(mask).process(data)
    assert once != data
    assert wsmask.FastXorMasker(mask).process(once) == data


def test_install_patches_autobahns_protocol_module() -> None:
    wsmask.install()
    assert protocol.create_xor_masker is wsmask.create_fast_masker
    with pytest.raises(ValueError):
        wsmask.FastXorMasker(b"abc")
