"""Baseline for bench/reactive and bench/sockets: a bare `websockets` server.

bench/reactive: subscribers connect to /sub; every text frame received on /ctl is sent
verbatim to all of them with one `websockets.broadcast` call.
bench/sockets: subscribers connect to /sub/<i>; a frame on /pick, `{"to": [i, ...], "frame":
"..."}`, sends `frame` to the named subscribers with one `websockets.broadcast` call.
Usage: python broadcast_server.py <port>
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import orjson
import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve

SUBSCRIBERS: set[ServerConnection] = set()
NUMBERED: dict[int, ServerConnection] = {}


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else ""
    if path == "/sub":
        SUBSCRIBERS.add(ws)
        try:
            await ws.wait_closed()
        finally:
            SUBSCRIBERS.discard(ws)
        return
    if path.startswith("/sub/"):
        index = int(path[5:])
        NUMBERED[index] = ws
        try:
            await ws.wait_closed()
        finally:
            if NUMBERED.get(index) is ws:
                del NUMBERED[index]
        return
    if path == "/pick":
        async for frame in ws:
            pick = orjson.loads(frame)
            broadcast([NUMBERED[i] for i in pick["to"] if i in NUMBERED], pick["frame"])
        return
    async for frame in ws:
        broadcast(SUBSCRIBERS, frame)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=None, ping_interval=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, websockets.ConnectionClosed):
        asyncio.run(main(int(sys.argv[1])))
