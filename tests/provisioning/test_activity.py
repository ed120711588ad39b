"""What a supervised data plane reports for scale to zero, and its graceful stop.

A real `python -m dataplane serve` process (local driver) running the messages app: the
activity endpoint (contract/activity.py) needs an admin key, counts requests in flight and open
sync sockets but not probes, gives the next cron's due time; SIGTERM lets a request in flight
finish instead of cancelling it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from contract.activity import ACTIVITY_PATH, ActivityReport
from contract.keys import mint_key, new_instance_secret
from contract.spec import DeploymentSpec
from controlplane.provisioning.client import DataPlaneClient
from controlplane.provisioning.drivers.local import LocalDriver
from tests.apps.cli_bundle import APPS
from tests.deploy.conftest import push_request

pytestmark = pytest.mark.slow


class Running:
    def __init__(self, driver: LocalDriver, spec: DeploymentSpec) -> None:
        self.driver, self.spec = driver, spec
        self.url = f"http://127.0.0.1:{spec.port}"
        key = mint_key(spec.name, spec.instance_secret)
        self.http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Convex {key}"}, timeout=60
        )
        self.client = DataPlaneClient(self.url, spec.name, spec.instance_secret)

    def activity(self) -> ActivityReport:
        report = self.client.activity()
        assert report is not None
        return report

    def call(self, kind: str, path: str, **args: Any) -> Any:
        response = self.http.post(f"/api/{kind}", json={"path": path, "args": args})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def running(driver: LocalDriver) -> Iterator[Running]:
    spec = DeploymentSpec(
        name="idle-otter-123",
        instance_secret=new_instance_secret(),
        port=driver.allocate_port(set()),
    )
    driver.provision(spec)
    dp = Running(driver, spec)
    start = dp.http.post("/api/deploy2/start_push", json=push_request(APPS / "messages" / "convex"))
    assert start.status_code == 200, start.text
    change = {"schemaChange": start.json()["schemaChange"], "timeoutMs": 60_000}
    assert dp.http.post("/api/deploy2/wait_for_schema", json=change).status_code == 200
    done = dp.http.post(
        "/api/deploy2/finish_push", json={"startPush": start.json(), "dryRun": False}
    )
    assert done.status_code == 200, done.text
    yield dp


def in_background(dp: Running, path: str, **args: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(dp.call("action", path, **args)))
    thread.start()
    return thread, out


def test_activity_counts_requests_and_sockets_not_probes(running: Running) -> None:
    anonymous = httpx.get(f"{running.url}{ACTIVITY_PATH}", timeout=10)
    assert anonymous.status_code == 401  # due times of scheduled work are the tenant's

    # The 5-minute cron of the messages app is the next work due (once its first run, due
    # at the push, is done: an overdue time is reported as it is).
    deadline = time.monotonic() + 30
    while (due := running.activity().next_due_ms) is None or due / 1000 < time.time():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert due / 1000 - time.time() <= 5 * 60
    time.sleep(0.3)
    for _ in range(3):  # probes keep nothing awake
        assert httpx.get(f"{running.url}/healthz", timeout=10).status_code == 200
    quiet = running.activity()
    assert not quiet.busy and quiet.idle_seconds >= 0.3

    thread, out = in_background(running, "env:sleepy", ms=1500)
    deadline = time.monotonic() + 30
    while (busy := running.activity()).inflight_requests < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert busy.busy and busy.idle_seconds == 0
    thread.join()
    assert out[0]["value"] is True
    assert running.activity().inflight_requests == 0

    with ws_connect(f"ws://127.0.0.1:{running.spec.port}/api/1.48.0/sync") as ws:
        ws.send(
            json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
        )
        deadline = time.monotonic() + 30
        while running.activity().open_sockets < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert running.activity().idle_seconds == 0
    deadline = time.monotonic() + 30
    while running.activity().open_sockets:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_graceful_stop_lets_requests_in_flight_finish(running: Running) -> None:
    thread, out = in_background(running, "env:sleepy", ms=2000)
    deadline = time.monotonic() + 30
    while running.activity().inflight_requests < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    running.driver.stop(running.spec.name)  # SIGTERM, as a pause or a suspend sends
    thread.join()
    assert out and out[0]["status"] == "success" and out[0]["value"] is True
    assert not running.driver.state(running.spec.name).running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{running.url}/healthz", timeout=2)
