"""A small real HTTP server standing in for the parts of Stripe's API that billing calls.

It speaks Stripe's wire format (form-encoded requests, JSON objects, JSON error bodies), checks
the bearer secret key, honours Idempotency-Key like Stripe does, and records every request so
tests assert on what was actually sent.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class StripeStandIn:
    secret_key: str
    requests: list[Recorded] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    meter_events: list[dict[str, Any]] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # path -> HTTP status, once
    _idem: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def handle(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
        with self._lock:
            n = next(self._ids)
        if method == "POST" and path == "/v1/customers":
            return 200, {"id": f"cus_test{n}", "object": "customer", "name": params.get("name")}
        if method == "POST" and path == "/v1/checkout/sessions":
            sid = f"cs_test_{n}"
            return 200, {
                "id": sid,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params.get("customer"),
                "url": f"https://checkout.stripe.test/c/pay/{sid}",
            }
        if method == "POST" and path == "/v1/billing_portal/sessions":
            sid = f"bps_test_{n}"
            return 200, {
                "id": sid,
                "object": "billing_portal.session",
                "customer": params.get("customer"),
                "return_url": params.get("return_url"),
                "url": f"https://billing.stripe.test/p/session/{sid}",
            }
        if method == "GET" and path.startswith("/v1/subscriptions/"):
            sub = self.subscriptions.get(path.rsplit("/", 1)[1])
            if sub is None:
                return 404, _error("No such subscription", "resource_missing")
            return 200, sub
        if method == "POST" and path == "/v1/billing/meter_events":
            event = {
                "object": "billing.meter_event",
                "event_name": params.get("event_name"),
                "identifier": params.get("identifier"),
                "timestamp": int(params.get("timestamp", "0")),
                "payload": {
                    k[len("payload[") : -1]: v
                    for k, v in params.items()
                    if k.startswith("payload[")
                },
                "created": 0,
                "livemode": False,
            }
            if not any(e["identifier"] == event["identifier"] for e in self.meter_events):
                self.meter_events.append(event)
            return 200, event
        return 404, _error(f"Unrecognized request URL ({method}: {path})", None)


def _error(message: str, code: str | None) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "message": message, "code": code}}


def _handler(standin: StripeStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = dict(parse_qsl(body or split.query, keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            standin.requests.append(Recorded(method, split.path, params, headers))
            idem = headers.get("idempotency-key")
            if headers.get("authorization") != f"Bearer {standin.secret_key}":
                status, payload = 401, _error("Invalid API Key provided", None)
            elif split.path in standin.fail_next:
                status = standin.fail_next.pop(split.path)
                payload = _error("Injected failure", "standin_failure")
            elif idem and idem in standin._idem:
                status, raw = standin._idem[idem]
                self._send(status, raw)
                return
            else:
                status, payload = standin.handle(method, split.path, params)
            raw = orjson.dumps(payload)
            if idem and status == 200:
                standin._idem[idem] = (status, raw)
            self._send(status, raw)

        def _send(self, status: int, raw: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Request-Id", "req_standin")
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler


def start(secret_key: str) -> StripeStandIn:
    standin = StripeStandIn(secret_key=secret_key)
    standin.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(standin))
    threading.Thread(target=standin.server.serve_forever, daemon=True).start()
    return standin


def stop(standin: StripeStandIn) -> None:
    assert standin.server is not None
    standin.server.shutdown()
    standin.server.server_close()
