"""Wire timestamps: u64 nanoseconds as standard base64 of 8 little-endian bytes."""

from __future__ import annotations

import base64
import binascii
import struct

from ..deploy.errors import DeployError


def encode_ts(ts: int) -> str:
    return base64.b64encode(struct.pack("<Q", ts)).decode()


def decode_ts(raw: object) -> int:
    """The timestamp in a request; DeployError if it is not base64 of 8 bytes."""
    if not isinstance(raw, str):
        raise DeployError("`ts` must be a base64 string of 8 little-endian bytes")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as e:
        raise DeployError(f"`ts` is not valid base64: {e}") from e
    if len(data) != 8:
        raise DeployError("`ts` must encode exactly 8 bytes")
    value: int = struct.unpack("<Q", data)[0]
    return value
