"""Host-based routing: `<name>.<base domain>` is proxied (HTTP and WebSocket) to its deployment.

An ASGI wrapper in front of the control plane: requests for a deployment's host go to the
upstream URL the resolver returns (the local driver's port, or a cluster Service); all other
hosts fall through to the wrapped application.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol

import httpx
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Resolver = Callable[[str], str | None]

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
#: Sync messages through the gateway may be as large as the data plane accepts (64 MiB, as an
#: HTTP call; dataplane/serving.py); Daphne's own default is 1 MiB. Every Daphne serving
#: this gateway passes these (runplatform; `strata web` in infra/image/entrypoint.sh).
GATEWAY_WEBSOCKET_ARGS = (
    "--websocket-max-message-size",
    str(64 << 20),
    "--websocket-max-frame-size",
    str(64 << 20),
)
WS_SKIP = HOP_BY_HOP | {
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "sec-websocket-accept",
}


class WakeTimeout(Exception):
    """A suspended deployment did not start in time; the client should retry later."""

    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"deployment {name} is starting")
        self.retry_after = retry_after


class Waker(Protocol):
    """Scale to zero (suspend.py): the upstream of a deployment, woken first if suspended.

    `acquire` returns None for no such (running or suspended) deployment and raises
    WakeTimeout when it cannot start in time; each upstream it returns is held (the
    deployment is not suspended under it) until the matching `release`."""

    async def acquire(self, name: str, via: str) -> str | None: ...

    def release(self, name: str) -> None: ...


class _ClientGone(Exception):
    """The client disconnected while its request body was being forwarded."""


def deployment_from_host(host: str, base_domain: str) -> str | None:
    """`happy-otter-123` for `happy-otter-123.example.com[:port]`, else None."""
    hostname = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
    suffix = "." + base_domain.lower()
    if not hostname.endswith(suffix):
        return None
    label = hostname[: -len(suffix)]
    return label if label and "." not in label else None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _forward_headers(scope: Scope, skip: set[str]) -> list[tuple[str, str]]:
    headers = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in scope.get("headers", [])
        if k.decode("latin-1").lower() not in skip
    ]
    client = scope.get("client")
    if client:
        headers.append(("x-forwarded-for", str(client[0])))
    headers.append(("x-forwarded-host", _header(scope, b"host")))
    headers.append(
        ("x-forwarded-proto", "https" if scope.get("scheme") in ("https", "wss") else "http")
    )
    return headers


class HostGateway:
    def __init__(
        self, app: ASGIApp, *, base_domain: str, resolve: Resolver, waker: Waker | None = None
    ) -> None:
        self.app, self.base_domain, self.resolve = app, base_domain, resolve
        self.waker = waker
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            name = deployment_from_host(_header(scope, b"host"), self.base_domain)
            if name is not None:
                if self.waker is None:
                    await self._proxy(scope, receive, send, name, self.resolve(name))
                else:
                    await self._proxy_waking(scope, receive, send, name, self.waker)
                return
        await self.app(scope, receive, send)

    async def _proxy(
        self, scope: Scope, receive: Receive, send: Send, name: str, upstream: str | None
    ) -> None:
        if scope["type"] == "http":
            await self._proxy_http(scope, receive, send, name, upstream)
        else:
            await self._proxy_ws(scope, receive, send, upstream)

    async def _proxy_waking(
        self, scope: Scope, receive: Receive, send: Send, name: str, waker: Waker
    ) -> None:
        """Hold the request while a suspended deployment starts, then proxy it; 503 with
        Retry-After (HTTP) or close code 1013 "try again later" (WebSocket) if it is slow."""
        try:
            upstream = await waker.acquire(name, scope["type"])
        except WakeTimeout as exc:
            if scope["type"] == "http":
                await _json_response(
                    send,
                    503,
                    f'{{"code":"DeploymentStarting","message":"Deployment {name} is starting; '
                    'retry shortly"}',
                    [(b"retry-after", str(exc.retry_after).encode())],
                )
            else:
                await receive()
                await send({"type": "websocket.close", "code": 1013})
            return
        try:
            await self._proxy(scope, receive, send, name, upstream)
        finally:
            if upstream is not None:
                waker.release(name)

    def _target(self, scope: Scope, upstream: str, ws: bool = False) -> str:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        base = (
            upstream.replace("http://", "ws://").replace("https://", "wss://") if ws else upstream
        )
        url = base.rstrip("/") + path.decode("latin-1")
        return url + ("?" + query.decode("latin-1") if query else "")

    async def _proxy_http(
        self, scope: Scope, receive: Receive, send: Send, name: str, upstream: str | None
    ) -> None:
        if upstream is None:
            await _json_response(
                send,
                404,
                f'{{"code":"DeploymentNotFound","message":"No running deployment named {name}"}}',
            )
            return
        # The body streams through (uploads may be large); the data plane enforces its caps.
        headers = _forward_headers(scope, HOP_BY_HOP)
        raw = dict(scope.get("headers") or [])
        length = raw.get(b"content-length")
        if length is not None:
            headers.append(("content-length", length.decode("latin-1")))

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body"):
                    return

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=5.0))
        content: bytes | AsyncIterator[bytes]
        try:
            if length is None and b"transfer-encoding" not in raw:
                content = b"".join([chunk async for chunk in body()])  # no body framing: empty
            else:
                content = body()
            request = self._client.build_request(
                scope["method"], self._target(scope, upstream), headers=headers, content=content
            )
            response = await self._client.send(request, stream=True)
        except _ClientGone:
            return
        except httpx.HTTPError:
            await _json_response(
                send, 502, '{"code":"BadGateway","message":"Deployment unreachable"}'
            )
            return
        try:
            out_headers = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.multi_items()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": out_headers,
                }
            )
            async for chunk in response.aiter_bytes():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    async def _proxy_ws(
        self, scope: Scope, receive: Receive, send: Send, upstream: str | None
    ) -> None:
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        if upstream is None:
            await send({"type": "websocket.close", "code": 4404})
            return
        subprotocols: Iterable[str] = scope.get("subprotocols") or []
        try:
            upstream_ws = await ws_connect(
                self._target(scope, upstream, ws=True),
                additional_headers=_forward_headers(scope, WS_SKIP),
                subprotocols=[s for s in subprotocols] or None,  # type: ignore[misc]
                max_size=None,
                compression=None,
            )
        except (OSError, InvalidHandshake, InvalidStatus):
            await send({"type": "websocket.close", "code": 1011})
            return
        await send({"type": "websocket.accept", "subprotocol": upstream_ws.subprotocol})

        async def client_to_upstream() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream_ws.close(code=message.get("code", 1000))
                    return
                data = message.get("text")
                await upstream_ws.send(data if data is not None else message.get("bytes") or b"")

        async def upstream_to_client() -> None:
            try:
                async for data in upstream_ws:
                    key = "text" if isinstance(data, str) else "bytes"
                    await send({"type": "websocket.send", key: data})
            except ConnectionClosed:
                pass
            code = upstream_ws.close_code or 1000
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": code})

        tasks = [
            asyncio.ensure_future(client_to_upstream()),
            asyncio.ensure_future(upstream_to_client()),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await upstream_ws.close()


async def _json_response(
    send: Send, status: int, body: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
