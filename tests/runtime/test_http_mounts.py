"""Routing a request to the http.js of the component instance mounted at its path."""

from __future__ import annotations

from typing import Any

from dataplane.runtime.http_mounts import route

TABLE: dict[str, Any] = {
    "": {
        "routes": [["/hello", "GET"], ["/pay/special", "GET"], ["/files/*", "GET"]],
        "mounts": {"/pay/": "payments", "/files/big/": "storage"},
        "hasHttp": True,
        "prefix": None,
    },
    "payments": {
        "routes": [["/webhook", "POST"]],
        "mounts": {"/inner/": "audit"},
        "hasHttp": True,
    },
    "payments/audit": {"routes": [["/log", "GET"]], "mounts": {}, "hasHttp": True},
    "storage": {"routes": [], "mounts": {}, "hasHttp": False},
}


def test_exact_routes_of_the_app_win() -> None:
    assert route(TABLE, "/hello", "GET") == ("", "/hello")
    assert route(TABLE, "/pay/special", "GET") == ("", "/pay/special")
    assert route(TABLE, "/hello", "HEAD") == ("", "/hello")


def test_mounts_strip_their_prefix_and_nest() -> None:
    assert route(TABLE, "/pay/webhook", "POST") == ("payments", "/webhook")
    assert route(TABLE, "/pay/inner/log", "GET") == ("payments/audit", "/log")
    # no route in the instance: its own http.js answers (its 404)
    assert route(TABLE, "/pay/nothing", "GET") == ("payments", "/nothing")


def test_the_longest_prefix_wins() -> None:
    assert route(TABLE, "/files/small/a", "GET") == ("", "/files/small/a")
    # /files/big/ (a mount) is longer than the app's /files/* route; storage has no http.js
    assert route(TABLE, "/files/big/a", "GET") is None


def test_app_prefix_applies_to_its_own_routes_only() -> None:
    table = {**TABLE, "": {**TABLE[""], "prefix": "/api/"}}
    assert route(table, "/api/hello", "GET") == ("", "/hello")
    assert route(table, "/hello", "GET") is None
    assert route(table, "/pay/webhook", "POST") == ("payments", "/webhook")
