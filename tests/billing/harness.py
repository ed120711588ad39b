"""localstripe as a subprocess on a free port, and a relay that catches the webhooks it signs.

localstripe delivers every event it sends to the endpoints registered with
`POST /_config/webhooks/<id>` (url, secret), signed as Stripe signs them
(`Stripe-Signature: t=<created>,v1=<HMAC-SHA256 of "t.body" with the secret>`). The relay is one
such endpoint: it keeps the exact bytes and header of each delivery, so a test hands them to the
control plane unchanged.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import stripe

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
# localstripe waits a second before each delivery; a missing event fails the test after this.
DELIVERY_TIMEOUT_S = 30.0


@dataclass
class LocalStripe:
    url: str
    secret_key: str
    process: subprocess.Popen[bytes] = field(repr=False)
    meters: dict[str, str] = field(default_factory=dict)  # usage kind -> meter id

    def client(self, api_key: str | None = None) -> stripe.StripeClient:
        return stripe.StripeClient(api_key or self.secret_key, base_addresses={"api": self.url})

    def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(
            f"{self.url}{path}",
            data=data or {},
            headers={"Authorization": f"Bearer {self.secret_key}"},
            timeout=30,
        )

    def fail_next(self, path: str, status: int) -> None:
        self.post("/_shim/fail_next", {"path": path, "status": str(status)}).raise_for_status()

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        r = self.post(f"/_shim/checkout/sessions/{session_id}/complete")
        r.raise_for_status()
        return dict(r.json())

    def register_webhook(self, name: str, url: str, secret: str, events: list[str]) -> None:
        data = {"url": url, "secret": secret}
        data.update({f"events[{i}]": e for i, e in enumerate(events)})
        self.post(f"/_config/webhooks/{name}", data).raise_for_status()


@contextmanager
def running_localstripe(secret_key: str) -> Iterator[LocalStripe]:
    """localstripe from scratch; its tracebacks go to the test's captured stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.billing.localstripe_server"],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ports: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: ports.put(proc.stdout.readline().decode()), daemon=True
        ).start()  # type: ignore[union-attr]
        try:
            line = ports.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError("localstripe did not start") from None
        if not line.startswith("port="):
            raise RuntimeError(f"localstripe failed to start: {line!r}")
        yield LocalStripe(f"http://127.0.0.1:{int(line[5:])}", secret_key, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Delivery:
    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        return dict(orjson.loads(self.body))


class WebhookRelay:
    """An HTTP endpoint that records each webhook localstripe delivers to it."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._cond = threading.Condition()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with relay._cond:
                    relay.deliveries.append(Delivery(body, self.headers["Stripe-Signature"]))
                    relay._cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def wait_for(self, type_: str, **match: Any) -> Delivery:
        """The first delivered event of that type whose data.object has the given fields."""

        def found() -> Delivery | None:
            for d in self.deliveries:
                event = d.event
                obj = event["data"]["object"]
                if event["type"] == type_ and all(obj.get(k) == v for k, v in match.items()):
                    return d
            return None

        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        with self._cond:
            while (delivery := found()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [d.event["type"] for d in self.deliveries]
                    raise AssertionError(f"no {type_} {match} delivered; got {seen}")
                self._cond.wait(left)
        return delivery

    def types(self) -> list[str]:
        with self._cond:
            return [d.event["type"] for d in self.deliveries]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
