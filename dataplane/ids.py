"""Document ids: base32 of (varint table number, 16 random bytes, Fletcher-16 checksum).

Encoding the table lets `normalize_id` check an id belongs to a table without a lookup, and
the checksum rejects typos. The alphabet is ASCII-sorted, so ids of one table sort as their
random bytes do.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from .fastrand import random_bytes

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
# Map our alphabet onto the digits int(..., 32) understands; other characters become "!".
_TO_INT_DIGITS = {
    i: ("0123456789abcdefghijklmnopqrstuv"[ALPHABET.index(chr(i))] if chr(i) in ALPHABET else "!")
    for i in range(128)
}
INTERNAL_ID_LEN = 16
MIN_ID_LEN = 31
MAX_ID_LEN = 37


@dataclass(frozen=True, slots=True)
class DocumentIdParts:
    """A decoded id: which table and which document within it."""

    table_number: int
    internal: bytes


def new_internal_id() -> bytes:
    """Fresh document identity: 8 bytes of wall-clock ns then 8 random bytes.

    Time-ordered ids make storage inserts append near the end of each B-tree (fewer dirty
    pages per commit); the random half keeps them unique and unguessable.
    """
    return time.time_ns().to_bytes(8, "big") + random_bytes(INTERNAL_ID_LEN - 8)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _fletcher16(data: bytes) -> bytes:
    a = b = 0
    for byte in data:
        a = (a + byte) % 255
        b = (b + a) % 255
    return bytes((b, a))


def _b32encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    bits = len(data) * 8
    chars = -(-bits // 5)
    n <<= chars * 5 - bits
    out = []
    for _ in range(chars):
        out.append(ALPHABET[n & 31])
        n >>= 5
    return "".join(reversed(out))


def _b32decode(text: str) -> bytes | None:
    digits = text.translate(_TO_INT_DIGITS)
    if not digits.isalnum() or not digits.isascii() or digits != digits.lower():
        return None
    try:
        n = int(digits, 32)
    except ValueError:
        return None
    nbytes = len(text) * 5 // 8
    pad = len(text) * 5 - nbytes * 8
    if n & ((1 << pad) - 1):
        return None
    return (n >> pad).to_bytes(nbytes, "big")


def encode_id(table_number: int, internal: bytes) -> str:
    """The string form of a document id."""
    if table_number < 0 or len(internal) != INTERNAL_ID_LEN:
        raise ValueError("invalid id parts")
    body = _varint(table_number) + internal
    return _b32encode(body + _fletcher16(body))


def decode_id(text: str) -> DocumentIdParts | None:
    """Parse and validate an id string; None if it is not a well-formed id."""
    if not isinstance(text, str) or not MIN_ID_LEN <= len(text) <= MAX_ID_LEN:
        return None
    return _decode_cached(text)


@functools.lru_cache(maxsize=65_536)
def _decode_cached(text: str) -> DocumentIdParts | None:
    raw = _b32decode(text)
    if raw is None or len(raw) < INTERNAL_ID_LEN + 3 or -(-len(raw) * 8 // 5) != len(text):
        return None
    body, check = raw[:-2], raw[-2:]
    if _fletcher16(body) != check:
        return None
    table_number = 0
    shift = 0
    pos = 0
    while pos < len(body):
        byte = body[pos]
        table_number |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            break
        shift += 7
    else:
        return None
    internal = body[pos:]
    if len(internal) != INTERNAL_ID_LEN or _varint(table_number) != body[:pos]:
        return None
    return DocumentIdParts(table_number, internal)
