"""A faster WebSocket unmasking for autobahn (the library under daphne).

Every client frame is masked. autobahn builds a CFFI masker object per frame (or loops over
bytes in Python without its native build); for the small frames of the sync protocol that is
a measurable share of a mutation's cost. XOR through Python's big integers is one C-level
operation per frame. autobahn is pinned; tests/sync/test_wsmask.py checks the patch against
autobahn's own masker.
"""

from __future__ import annotations

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


def install() -> None:
    """Make autobahn's protocol use FastXorMasker (idempotent)."""
    from autobahn.websocket import protocol

    module: Any = protocol
    module.create_xor_masker = create_fast_masker
