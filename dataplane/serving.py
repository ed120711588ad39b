"""The Daphne server of one data-plane process, with the data plane's transport limits.

WebSocket: a sync message may be as large as an HTTP request body (`MAX_BODY_BYTES`), as
Convex's clients send the same calls either way: a call whose arguments fit Convex's argument
limit (`RuntimeLimits.max_args_bytes`, 16 MiB) runs, a larger one gets Convex's "too large"
error for that call, like over HTTP. A message over the cap is refused before it is buffered:
the socket is closed with a close frame (1009, message too big), never dropped without one,
and nothing more is read from it.

HTTP bodies: Twisted keeps a request body in a temporary file while it arrives, and Daphne
then queues the whole body for the application in memory, chunk by chunk (and Twisted
itself reads form-encoded and multipart bodies into memory to parse them). Here the body is
capped while it arrives (file uploads and imports: STRATA_DP_MAX_UPLOAD_BYTES; everything
else: `MAX_BODY_BYTES`), an oversized body is discarded as it comes and answered with 413 in
Convex's error shape, and the application reads the body from Twisted's file on demand, so a
process's memory stays flat however large the uploads it receives.

Both hook Daphne (pinned in requirements/base.txt) where it builds its factories; the tests
in tests/security/test_uploads.py and tests/compat/test_sync_limits.py fail if they move.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from daphne.http_protocol import WebRequest
from daphne.ws_protocol import WebSocketProtocol

if TYPE_CHECKING:
    from daphne.server import Server

    from .app import DeploymentApp

#: Bodies of every other endpoint (JSON calls, pushes, HTTP actions); as dataplane/http/web.py.
MAX_BODY_BYTES = 64 << 20
#: The largest sync WebSocket message: what an HTTP call may carry.
MAX_SYNC_MESSAGE_BYTES = MAX_BODY_BYTES
#: Allocations between young-generation collections (CPython's default: 700); tune_gc().
GC_YOUNG_THRESHOLD = 20_000
#: Request targets whose bodies stream to disk (file uploads, snapshot imports).
STREAMED_PATHS = (b"/api/storage/upload", b"/api/import")
#: How much of a body one ASGI `http.request` message carries.
BODY_CHUNK = 256 << 10
#: On SIGTERM (pause, suspend, shutdown) requests in flight get this long to finish before
#: they are cancelled; under the control plane's STRATA_DP_STOP_TIMEOUT (10 s), after which
#: it kills the process.
DRAIN_S = 8.0


class _Discard:
    """Where an oversized body goes while it still arrives: nowhere."""

    closed = False

    def write(self, data: bytes) -> None:
        pass

    def read(self, n: int = -1) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


class BoundedRequest(WebRequest):
    """Daphne's request with a body cap; `upload_limit` is set per server (see request_class)."""

    upload_limit = MAX_BODY_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Twisted would read a form-encoded or multipart POST body into memory to parse it
        # into `args`, which Daphne never uses.
        self._parsePOSTFormSubmission = False

    def gotLength(self, length: int | None) -> None:
        target = getattr(self.channel, "_path", b"") or b""
        streamed = target.startswith(STREAMED_PATHS)
        self.body_limit = self.upload_limit if streamed else MAX_BODY_BYTES
        self.body_seen = 0
        self.too_large = length is not None and length > self.body_limit
        if self.too_large:
            self.content = _Discard()
        else:
            super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        self.body_seen += len(data)
        if not self.too_large and self.body_seen > self.body_limit:
            self.too_large = True
            self.content.close()  # the temporary file goes; the rest is discarded
            self.content = _Discard()
        self.content.write(data)

    def process(self) -> Any:
        if getattr(self, "too_large", False):
            self._refuse_too_large()
            return None
        return super().process()

    def _refuse_too_large(self) -> None:
        self.request_start = time.time()
        if hasattr(self.client, "host") and hasattr(self.client, "port"):
            self.client_addr = [str(self.client.host), self.client.port]
        body = orjson.dumps(
            {
                "code": "PayloadTooLarge",
                "message": f"The request body is over the limit of {self.body_limit} bytes",
            }
        )
        headers = [
            (b"Content-Type", b"application/json"),
            (b"Access-Control-Allow-Origin", b"*"),
        ]
        self.handle_reply({"type": "http.response.start", "status": 413, "headers": headers})
        self.handle_reply({"type": "http.response.body", "body": body})


class SyncSocketProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol; a socket that broke the protocol (e.g. a message over
    the cap) is answered with a close frame and then read no further: autobahn would keep
    buffering whatever the client still sends until the close handshake times out."""

    def _fail_connection(self, code: int = 1001, reason: str = "going away") -> None:
        super()._fail_connection(code, reason)
        self.data = b""
        transport = self.transport
        if transport is not None:
            transport.pauseProducing()


def tune_gc() -> None:
    """Garbage-collector settings for a serving process (before it accepts connections).

    Each open sync socket keeps some 160 container objects alive (daphne, autobahn and
    Twisted protocol state, the consumer, its session and tasks), so 10,000 sockets make a
    heap of 1.6 million objects that every full collection walks: 0.7-2 s with the event
    loop stopped. CPython collects fully whenever the objects promoted out of the young
    generations since the last full collection exceed a quarter of the old ones, and with
    the default young threshold (700 allocations) the short-lived objects of each step,
    ping and checker pass were promoted often enough to stop the loop every few seconds.
    A larger young threshold lets those die young, and freezing what start-up built
    (modules, Django, the deployment's state) takes it out of every later collection."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def request_class(upload_limit: int) -> type[BoundedRequest]:
    return type("DeploymentRequest", (BoundedRequest,), {"upload_limit": upload_limit})


class LazyBody:
    """Daphne's input queue for one HTTP request, except that the body is read from the
    request's content file when the application asks for it, not queued up front."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.offset = 0
        self.body_done = False

    def put_nowait(self, message: dict[str, Any]) -> None:
        if message.get("type") == "http.request":
            return  # Daphne's eager copy of the body: read on demand instead
        self.queue.put_nowait(message)

    async def get(self) -> dict[str, Any]:
        if not self.body_done:
            content = getattr(self.request, "content", None)
            if content is None or content.closed:
                self.body_done = True  # the connection went: only the disconnect remains
            else:
                content.seek(self.offset)
                chunk = content.read(BODY_CHUNK)
                self.offset += len(chunk)
                more = len(chunk) == BODY_CHUNK
                self.body_done = not more
                return {"type": "http.request", "body": chunk, "more_body": more}
        return await self.queue.get()


def build_server(app: DeploymentApp) -> Server:
    """A Daphne server for `app` on its configured host and port (not yet running)."""
    from daphne.access import AccessLogGenerator
    from daphne.server import Server
    from twisted.internet import reactor

    from .asgi import application_for

    config = app.config
    requests = request_class(config.max_upload_bytes)

    class DeploymentServer(Server):
        ports: list[Any]

        def listen_success(self, port: Any) -> None:
            self.ports = [*getattr(self, "ports", []), port]
            super().listen_success(port)

        def kill_all_applications(self) -> Any:
            """A graceful stop: accept nothing new, let requests in flight finish (up to
            DRAIN_S), then cancel what is left as Daphne does."""
            from twisted.internet import defer

            for port in getattr(self, "ports", []):
                port.stopListening()

            async def drain() -> None:
                deadline = time.monotonic() + DRAIN_S
                while app.activity.inflight_requests and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)

            drained = defer.Deferred.fromFuture(asyncio.ensure_future(drain()))
            drained.addBoth(lambda _: Server.kill_all_applications(self))
            return drained

        def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
            if scope.get("type") != "http":
                return super().create_application(protocol, scope)
            # Daphne's create_application, with a LazyBody as the input queue.
            assert "application_instance" not in self.connections[protocol]
            body = LazyBody(protocol)
            # Daphne copies the body from the current position once this returns: from the
            # end, that copy is empty (LazyBody reads from its own offset).
            protocol.content.seek(0, 2)
            scope.setdefault("asgi", {"version": "3.0"})
            instance = self.application(
                scope=scope, receive=body.get, send=partial(self.handle_reply, protocol)
            )
            if protocol not in self.connections:
                return None
            self.connections[protocol]["application_instance"] = asyncio.ensure_future(
                instance, loop=asyncio.get_event_loop()
            )
            return body

    server = DeploymentServer(
        application=application_for(app),
        endpoints=[f"tcp:port={config.port}:interface={config.host}"],
        action_logger=AccessLogGenerator(sys.stdout),
        proxy_forwarded_address_header="X-Forwarded-For",
        proxy_forwarded_port_header="X-Forwarded-Port",
        proxy_forwarded_proto_header="X-Forwarded-Proto",
        websocket_max_message_size=MAX_SYNC_MESSAGE_BYTES,
        websocket_max_frame_size=MAX_SYNC_MESSAGE_BYTES,
    )

    def adjust_factories() -> None:
        # Daphne builds its factories in run(), before the reactor accepts connections.
        # autobahn's default drops the TCP connection on a protocol failure (the client
        # sees 1006 and no reason): close with a frame instead.
        # The client gets a few seconds to read the close frame (nothing is read meanwhile).
        server.ws_factory.setProtocolOptions(failByDrop=False, closeHandshakeTimeout=5)
        server.ws_factory.protocol = SyncSocketProtocol
        factory = server.http_factory
        build = factory.buildProtocol

        def build_protocol(addr: Any) -> Any:
            protocol = build(addr)
            if protocol is not None:
                protocol.requestFactory = requests
            return protocol

        factory.buildProtocol = build_protocol

    any_reactor: Any = reactor
    any_reactor.callWhenRunning(adjust_factories)
    return server
