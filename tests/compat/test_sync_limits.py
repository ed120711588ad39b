"""Large sync frames against a live server: the official client's calls resolve.

A mutation whose arguments fit Convex's 16 MiB argument limit runs over the WebSocket as it
does over HTTP; one over the limit gets Convex's error for that call (up to the 64 MiB an HTTP
call may carry); a message over that cap is refused with a close frame (1009), not a dropped
connection.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

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


def test_frame_over_the_cap_is_closed_with_a_close_frame(live: LiveApp) -> None:
    cap = MAX_SYNC_MESSAGE_BYTES
    ws_url = live.url.replace("http://", "ws://") + "/api/1.48.0/sync"
    with connect(ws_url, max_size=None, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "Connect", "sessionId": "0" * 32, "connectionCount": 0}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.send("x" * (cap + MIB))
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None, "dropped without a close frame"
    assert closed.value.rcvd.code == 1009
