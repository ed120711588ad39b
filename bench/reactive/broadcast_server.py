"""Baseline for bench/reactive: a bare `websockets` server broadcasting each control frame.

Subscribers connect to /sub; every text frame received on /ctl is sent verbatim to all of
them with one `websockets.broadcast` call. Usage: python broadcast_server.py <port>
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import websockets
from websockets.asyncio.server import ServerConnection, broadcast, serve

SUBSCRIBERS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else ""
    if path == "/sub":
        SUBSCRIBERS.add(ws)
        try:
            await ws.wait_closed()
        finally:
            SUBSCRIBERS.discard(ws)
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
