"""A real HTTP server on 127.0.0.1 for egress tests: `/to?url=X` redirects (302) to X,
`/hello` answers 200; every request's path and Host header is recorded."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Redirector:
    base: str
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    def redirect_to(self, target: str) -> str:
        return f"{self.base}/to?url={urllib.parse.quote(target, safe='')}"


@contextmanager
def redirector() -> Iterator[Redirector]:
    state = Redirector("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append((self.path, self.headers.get("Host", "")))
            parsed = urllib.parse.urlparse(self.path)
            if parsed.path == "/to":
                target = urllib.parse.parse_qs(parsed.query)["url"][0]
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"hello" if parsed.path == "/hello" else b"not found"
            self.send_response(200 if parsed.path == "/hello" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
