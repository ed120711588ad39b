"""Faster inbound frame handling for autobahn (the WebSocket library under daphne).

Every client frame is masked and every text frame is UTF-8 validated. autobahn does both
through CFFI objects built per frame (or byte loops in Python without its native build); CFFI
calls also release the GIL, and under load each release is a likely hand-off to another
thread and back. XOR through Python's big integers, and CPython's own incremental UTF-8
decoder, do the same work in one C-level step each while holding the GIL. autobahn is pinned;
tests/sync/test_wsaccel.py checks both against autobahn's own implementations.
"""

from __future__ import annotations

import codecs
from typing import Any


class FastXorMasker:
    """autobahn's masker interface (`process`, `pointer`, `reset`) for one frame."""

    __slots__ = ("_mask", "_ptr")

    def __init__(self, mask: bytes) -> None:
        if len(mask) != 4:
            raise ValueError("a WebSocket mask has 4 bytes")
        self._mask = bytes(mask)
        self._ptr = 0

    def pointer(self) -> int:
        return self._ptr

    def reset(self) -> None:
        self._ptr = 0

    def process(self, data: bytes) -> bytes:
        n = len(data)
        if n == 0:
            return b""
        shift = self._ptr & 3
        mask = self._mask[shift:] + self._mask[:shift]
        key = (mask * (n // 4 + 1))[:n]
        self._ptr += n
        return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(
            n, "little"
        )


def create_fast_masker(mask: bytes, length: int | None = None) -> FastXorMasker:
    return FastXorMasker(mask)


class FastUtf8Validator:
    """autobahn's incremental validator interface: `reset()`, and `validate(chunk)` returning
    (valid, ends on a code point, index in chunk, index in message)."""

    __slots__ = ("_decoder", "_total")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._total = 0

    def reset(self) -> None:
        self._decoder.reset()
        self._total = 0

    def validate(self, chunk: bytes) -> tuple[bool, bool, int, int]:
        try:
            self._decoder.decode(chunk, False)
        except UnicodeDecodeError as exc:
            return False, False, exc.start, self._total + exc.start
        self._total += len(chunk)
        pending = self._decoder.getstate()[0]
        return True, not pending, len(chunk), self._total


def install() -> None:
    """Make autobahn's protocol use the fast masker and validator (idempotent)."""
    from autobahn.websocket import protocol

    module: Any = protocol
    module.create_xor_masker = create_fast_masker
    module.Utf8Validator = FastUtf8Validator
