"""Large sync frames against a live server: the official client's calls resolve.

A mutation whose arguments fit Convex's 16 MiB argument limit runs over the WebSocket as it
does over HTTP; one over the limit gets Convex's error for that call (up to the 64 MiB an HTTP
call may carry); a message over that cap is refused with a close frame (1009), not a dropped
connection.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplane.runtime.limits import RuntimeLimits
from dataplane.serving import MAX_SYNC_MESSAGE_BYTES
from tests.sync.live import JS_DIR, LiveApp, deploy_sync_app

pytestmark = pytest.mark.slow

MIB = 1 << 20


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = deploy_sync_app(tmp_path_factory.mktemp("sync-limits"))
    try:
        yield app
    finally:
        app.server.stop()


def _measure(app: LiveApp, *sizes: int) -> list[dict]:
    proc = subprocess.run(
        ["node", str(JS_DIR / "limits.mjs"), app.url, *map(str, sizes)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or lines[-1] != {"ok": True}:
        raise AssertionError(
            f"limits.mjs failed ({proc.returncode}):\nstdout:\n{proc.stdout[-2000:]}\n"
            f"stderr:\n{proc.stderr[-2000:]}\nserver log:\n{app.server.log()[-3000:]}"
        )
    return lines[:-1]


def test_official_client_mutation_with_large_arguments_resolves(live: LiveApp) -> None:
    limit = RuntimeLimits().max_args_bytes
    small, large, too_large, far_too_large = _measure(live, 10, 2 * MIB, limit + 1024, 40 * MIB)
    assert small == {"size": 10, "length": 10}
    assert large == {"size": 2 * MIB, "length": 2 * MIB}
    for refused, size in ((too_large, limit + 1024), (far_too_large, 40 * MIB)):
        assert refused["size"] == size
        assert "too large" in refused["error"]


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_frame_over_the_cap_is_closed_with_a_close_frame(live: LiveApp) -> None:
    """Raw frames, so that what the server sends is seen while the client still writes."""
    port = int(live.url.rsplit(":", 1)[1])
    before = _peak_rss(live.server.process.pid)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                "GET /api/1.48.0/sync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        handshake = b""
        while b"\r\n\r\n" not in handshake:
            handshake += sock.recv(4096)
        assert handshake.startswith(b"HTTP/1.1 101")
        # A masked text frame announcing one byte more than the cap, and its first MiB.
        header = b"\x81\xff" + struct.pack(">Q", MAX_SYNC_MESSAGE_BYTES + 1) + b"\0\0\0\0"
        sock.sendall(header + b"x" * MIB)
        reply = sock.recv(2)
        assert reply[:1] == b"\x88", f"no close frame: {reply!r}"  # FIN + close
        body = sock.recv(reply[1] & 0x7F)
        assert struct.unpack(">H", body[:2])[0] == 1009, body
        # The client keeps sending: the server reads none of it.
        sock.settimeout(2)
        with contextlib.suppress(OSError):
            for _ in range(64):
                sock.sendall(b"x" * MIB)
    grown = _peak_rss(live.server.process.pid) - before
    assert grown < 32 * MIB, f"peak RSS grew by {grown / MIB:.0f} MiB"
