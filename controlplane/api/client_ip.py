"""The client's address: the TCP peer, or what a configured trusted proxy says it saw.

X-Forwarded-For is a header any client can send, so it is read only when the peer is one of
STRATA_TRUSTED_PROXIES, and then from the right: each trusted proxy appends the address it
received the request from, and the first address (from the right) that is not a trusted proxy
is the client. Entries left of it are whatever the client wrote, and are ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _parse(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_ip(request: HttpRequest) -> str:
    peer = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies = _parse(tuple(settings.STRATA_TRUSTED_PROXIES))
    if not proxies or not _trusted(peer, proxies):
        return peer
    client = peer
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage: stop at the last address a trusted proxy vouched for
        client = hop
        if not _trusted(hop, proxies):
            break
    return client
