"""Data planes outlive their supervisor: SIGKILL the process running the local driver, the
deployment keeps answering, and the next driver adopts the very same process and supervises
it again. Memory is bounded by resident set, not address space."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contract.keys import new_instance_secret
from contract.spec import DeploymentSpec, ResourceLimits
from controlplane.provisioning.drivers.local import LocalDriver
from controlplane.provisioning.local_instance import LocalInstance
from tests.provisioning.test_local_driver import make_spec, wait_for

REPO = Path(__file__).resolve().parents[2]
PORTS = (25000, 25999)

SUPERVISOR = """
import json, sys, time
from pathlib import Path
from contract.spec import DeploymentSpec, ResourceLimits
from controlplane.provisioning.drivers.local import LocalDriver

root, raw = sys.argv[1], json.loads(sys.argv[2])
raw["limits"] = ResourceLimits(**raw["limits"])
driver = LocalDriver(Path(root), port_range=(25000, 25999))
state = driver.provision(DeploymentSpec(**raw))
print(json.dumps({"pid": state.pid, "url": state.url}), flush=True)
while True:
    time.sleep(60)
"""


def _answers(url: str, name: str) -> bool:
    try:
        return httpx.get(f"{url}/instance_name", timeout=5).text == name
    except httpx.HTTPError:
        return False


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "deployments"
    # Whatever the test left running (it may fail before its own cleanup).
    for record in (tmp_path / "deployments").glob("*/supervisor.json"):
        pid = json.loads(record.read_text())["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def test_supervisor_crash_leaves_data_plane_serving_and_it_is_adopted(root: Path) -> None:
    probe = LocalDriver(root, port_range=PORTS)
    spec = DeploymentSpec(
        name="sturdy-otter-101",
        instance_secret=new_instance_secret(),
        port=probe.allocate_port(set()),
    )
    probe.shutdown()
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(root), json.dumps(spec.__dict__ | {"limits": {}})],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert supervisor.stdout is not None
        started = json.loads(supervisor.stdout.readline())
    finally:
        supervisor.send_signal(signal.SIGKILL)  # the control plane crashes
        supervisor.wait(30)
    pid, url = started["pid"], started["url"]

    # The data plane did not go down with its supervisor (the wait only absorbs a busy host).
    os.kill(pid, 0)
    wait_for(lambda: _answers(url, spec.name), timeout=30)

    driver = LocalDriver(root, port_range=PORTS)
    try:
        state = driver.start(spec)
        assert state.healthy and state.pid == pid and state.restarts == 0  # adopted
        # ... and supervised again: killed, it is restarted.
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: driver.state(spec.name).restarts >= 1)
        driver.wait_healthy(spec.name)
        assert driver.state(spec.name).pid not in (None, pid)
        assert _answers(url, spec.name)
    finally:
        driver.shutdown()
    assert not _answers(url, spec.name)  # a graceful shutdown stops it


def test_a_memory_limit_does_not_cap_address_space(root: Path) -> None:
    driver = LocalDriver(root, port_range=PORTS)
    try:
        spec = make_spec(driver, "roomy-otter-102", limits=ResourceLimits(memory_mb=2048))
        state = driver.provision(spec)  # V8 reserves far more than 2 GB of address space
        assert state.healthy
        limits = Path(f"/proc/{state.pid}/limits").read_text()
        assert any(
            line.startswith("Max address space") and "unlimited" in line
            for line in limits.splitlines()
        )
    finally:
        driver.shutdown()


def test_a_data_plane_over_its_memory_limit_is_restarted(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="controlplane.provisioning.drivers.local")
    driver = LocalDriver(root, port_range=PORTS)
    try:
        # A data plane's resident set is well over 64 MB once it runs.
        spec = make_spec(driver, "greedy-otter-103", limits=ResourceLimits(memory_mb=64))
        LocalInstance(spec.name, driver.data_dir(spec.name)).write_instance_secret(
            spec.instance_secret
        )
        driver.start(spec, wait=0)
        wait_for(lambda: driver.state(spec.name).restarts >= 1)
        assert "over its memory limit of 64 MB" in caplog.text
    finally:
        driver.shutdown()
