"""The host-based gateway, served by daphne, in front of a real data plane and a WS server."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from contract.keys import new_instance_secret
from contract.spec import DeploymentSpec
from controlplane.provisioning.drivers.local import REPO_ROOT, LocalDriver
from controlplane.provisioning.gateway import deployment_from_host


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ws_upstream() -> Iterator[str]:
    """A real WebSocket server that echoes with a prefix and reports the request path."""
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Future[None] | None = None

    async def echo(ws: ServerConnection) -> None:
        await ws.send(f"path:{ws.request.path}" if ws.request else "path:?")
        async for message in ws:
            await ws.send(f"echo:{message}")

    async def main() -> None:
        nonlocal stop
        stop = loop.create_future()
        async with serve(echo, "127.0.0.1", port):
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(lambda: stop.set_result(None) if stop else None)
    thread.join(10)


@pytest.fixture
def gateway(driver: LocalDriver, ws_upstream: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    spec = DeploymentSpec(
        name="gate-otter-123",
        instance_secret=new_instance_secret(),
        port=driver.allocate_port(set()),
    )
    driver.provision(spec)
    upstreams = {spec.name: f"http://127.0.0.1:{spec.port}", "echo-otter-456": ws_upstream}
    port = free_port()
    env = {
        **os.environ,
        "STRATA_TEST_UPSTREAMS": json.dumps(upstreams),
        "PYTHONPATH": str(REPO_ROOT),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "tests.provisioning.gateway_app:application",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gateway.log", "wb"),  # noqa: SIM115
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", spec.name
    finally:
        proc.terminate()
        proc.wait(10)


def test_host_parsing() -> None:
    assert deployment_from_host("happy-otter-1.example.com:8000", "example.com") == "happy-otter-1"
    assert deployment_from_host("HAPPY-otter-1.Example.com", "example.com") == "happy-otter-1"
    assert deployment_from_host("example.com", "example.com") is None
    assert deployment_from_host("a.b.example.com", "example.com") is None
    assert deployment_from_host("evil-example.com", "example.com") is None


def test_http_is_routed_by_host(gateway: tuple[str, str]) -> None:
    url, name = gateway
    r = httpx.get(f"{url}/instance_name", headers={"Host": f"{name}.strata.test"}, timeout=10)
    assert r.status_code == 200 and r.text == name
    r = httpx.get(f"{url}/instance_name", headers={"Host": "strata.test"}, timeout=10)
    assert r.status_code == 418 and r.text == "control plane"
    r = httpx.get(
        f"{url}/instance_name", headers={"Host": "nope-otter-999.strata.test"}, timeout=10
    )
    assert r.status_code == 404 and "nope-otter-999" in r.json()["message"]


def test_websocket_is_proxied(gateway: tuple[str, str]) -> None:
    port = int(gateway[0].rsplit(":", 1)[1])

    async def talk() -> list[str]:
        # The URL names the deployment's host; the TCP connection goes to the gateway.
        uri = f"ws://echo-otter-456.strata.test:{port}/api/1.0/sync?x=1"
        async with connect(uri, host="127.0.0.1", port=port) as ws:
            got = [str(await ws.recv())]
            await ws.send("hello")
            got.append(str(await ws.recv()))
            return got

    assert asyncio.run(talk()) == ["path:/api/1.0/sync?x=1", "echo:hello"]


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_request_bodies_stream_through(gateway: tuple[str, str], declare_length: bool) -> None:
    url, name = gateway
    payload = bytes(range(256)) * (12 << 10)  # 3 MiB

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(payload), 1 << 20):
            yield payload[start : start + (1 << 20)]

    headers = {"Host": f"{name}.strata.test", "Content-Type": "application/octet-stream"}
    if declare_length:
        headers["Content-Length"] = str(len(payload))
    r = httpx.post(f"{url}/echo", content=pieces(), headers=headers, timeout=60)
    assert r.status_code == 200 and r.content == payload
