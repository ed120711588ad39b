"""A direct frame writer for daphne sockets: the fan-out hot path.

Daphne hands each application `send = partial(server.handle_reply, protocol)`, and autobahn's
`sendMessage` then spends most of a small message's cost on eagerly formatted debug logging.
For an open socket with nothing queued and no compression, writing the RFC 6455 text frame to
the transport is exactly what autobahn would do, at a fraction of the cost. When Twisted's
TCP transport has nothing buffered the frame goes straight to the socket (sparing two epoll
updates and a loop turn per socket); any remainder is handed to the transport. Anything else
falls back to the ordinary ASGI send.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from typing import Any

_H16 = struct.Struct("!BBH").pack
_H64 = struct.Struct("!BBQ").pack


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final, text frame (server to client)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return _H16(0x81, 126, n) + payload
    return _H64(0x81, 127, n) + payload


def direct_writer(base_send: Any) -> Callable[[bytes | list[bytes]], bool] | None:
    """A function writing text frames (one payload or several, in order) straight to the
    daphne socket in one write (False: use the ASGI send)."""
    if not isinstance(base_send, functools.partial) or not base_send.args:
        return None
    protocol = base_send.args[0]
    if not all(hasattr(protocol, a) for a in ("transport", "send_queue", "state", "STATE_OPEN")):
        return None

    def write(payload: bytes | list[bytes]) -> bool:
        if (
            protocol.state != protocol.STATE_OPEN
            or protocol.send_queue
            or getattr(protocol, "_perMessageCompress", None) is not None
            or protocol.transport is None
        ):
            return False
        if isinstance(payload, bytes):
            frame = text_frame(payload)
        else:
            frame = b"".join(text_frame(p) for p in payload)
        transport = protocol.transport
        sock = getattr(transport, "socket", None)
        if (
            sock is None
            or transport.dataBuffer
            or getattr(transport, "_tempDataLen", 1)
            or not transport.connected
            or transport.disconnecting
        ):
            transport.write(frame)
            return True
        try:
            sent = sock.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False  # the socket is going away; the ASGI path reports it properly
        if sent < len(frame):
            transport.write(frame[sent:])
        return True

    return write
