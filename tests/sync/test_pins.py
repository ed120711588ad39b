"""The WebSocket fast path relies on private internals of autobahn and Twisted: an upgrade of
either must fail here first, before it can change how frames are read or written."""

from __future__ import annotations

import re
import socket
from importlib.metadata import version
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements" / "sync.txt"


def _pinned(name: str) -> str:
    for line in REQUIREMENTS.read_text().splitlines():
        m = re.fullmatch(rf"{re.escape(name)}==(\S+)", line.strip())
        if m:
            return m.group(1)
    raise AssertionError(f"{name} is not pinned in {REQUIREMENTS.name}")


@pytest.mark.parametrize("name", ["autobahn", "Twisted"])
def test_installed_version_is_the_pinned_one(name: str) -> None:
    assert version(name) == _pinned(name), (
        f"{name} {version(name)} is installed but {_pinned(name)} is pinned: re-check "
        "dataplane/sync/wsaccel.py and wsframe.py against the new version, then re-pin"
    )


def test_autobahn_hooks_wsaccel_replaces_still_exist() -> None:
    from autobahn.websocket import protocol

    assert callable(protocol.create_xor_masker)
    validator = protocol.Utf8Validator()
    assert hasattr(validator, "reset") and hasattr(validator, "validate")
    masker = protocol.create_xor_masker(b"abcd", 8)
    assert {"process", "pointer", "reset"} <= set(dir(masker))


def test_twisted_transport_internals_wsframe_reads_still_exist() -> None:
    from twisted.internet import tcp

    # wsframe writes straight to the socket only when Twisted has nothing buffered.
    left, right = socket.socketpair()
    try:
        transport = tcp.Connection(left, protocol=None)
        for attr in ("dataBuffer", "_tempDataLen", "connected", "disconnecting", "socket"):
            assert hasattr(transport, attr), f"twisted tcp.Connection lost {attr}"
    finally:
        left.close()
        right.close()
