"""Outbound HTTP for `fetch()` in actions: every connection goes to an address that was checked.

The rule: link-local (cloud metadata), multicast and unspecified addresses never; loopback,
private and other non-global addresses only when the operator opts in
(STRATA_DP_FETCH_ALLOW_PRIVATE). The check sits in the connection layer, not in front of
the request: each hop of a redirect chain opens its own connection and is checked, and the
host name is resolved once, its addresses checked, and the socket connected to one of those
very addresses (the Host header and TLS SNI keep the name), so a DNS answer that changes
between check and connect (rebinding) gains nothing. Environment proxies are not used: a
proxy would resolve and connect on the action's behalf, past the check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from .isolate import SyscallFailure

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, compatible, 6to4, Teredo):
    it is judged by the IPv4 rule."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64 or (addr in _COMPATIBLE and int(addr) > 1):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    return None


def refusal(address: str, allow_private: bool) -> str | None:
    """Why a connection to `address` is refused, or None if it is allowed."""
    try:
        addr: Address = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return f"an invalid address {address}"
    if isinstance(addr, ipaddress.IPv6Address):
        addr = _embedded_ipv4(addr) or addr
    if addr.is_link_local or addr.is_multicast or addr.is_unspecified:
        return f"address {addr} is not allowed"
    if not allow_private and not addr.is_global:
        return f"private address {addr} is not allowed"
    return None


def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve `host` once; every address it resolves to must pass, else SyscallFailure."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise SyscallFailure(f"fetch() could not resolve {host!r}: {e}") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        why = refusal(address, allow_private)
        if why is not None:
            shown = host if host == address else f"{host} ({address})"
            raise SyscallFailure(f"fetch() to {shown} is not allowed: {why}")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise SyscallFailure(f"fetch() could not resolve {host!r}")
    return addresses


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's socket layer, connecting only to checked addresses."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in checked_addresses(host, port, self.allow_private):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as e:
                last = e
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise SyscallFailure("fetch() cannot reach unix sockets")


class CheckedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that uses CheckedBackend."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=CheckedBackend(allow_private),
        )


def client(allow_private: bool, timeout: float) -> httpx.Client:
    """An httpx client for one fetch: redirects followed, each hop's connection checked."""
    return httpx.Client(
        transport=CheckedTransport(allow_private),
        follow_redirects=True,
        timeout=timeout,
        trust_env=False,
    )


def get_bytes(url: str, allow_private: bool, timeout: float) -> bytes:
    """GET `url` under the same rule (e.g. an auth provider's JWKS); raises httpx errors or
    SyscallFailure."""
    with client(allow_private, timeout) as http:
        response = http.get(url)
        response.raise_for_status()
        return response.content
