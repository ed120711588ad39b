"""The local driver with real `python -m dataplane serve` processes."""

from __future__ import annotations

import os
import signal
import stat
import time

import httpx
import psycopg
import pymysql
import pytest

from contract.keys import new_instance_secret
from contract.spec import DeploymentSpec, ResourceLimits
from controlplane.provisioning import mysql as mysql_databases
from controlplane.provisioning.drivers import DriverError
from controlplane.provisioning.drivers.local import LocalDriver
from controlplane.provisioning.postgres import database_name
from dataplane.storage.mysql import connect_kwargs


def make_spec(driver: LocalDriver, name: str = "happy-otter-123", **kw: object) -> DeploymentSpec:
    return DeploymentSpec(
        name=name,
        instance_secret=new_instance_secret(),
        port=driver.allocate_port(set()),
        **kw,  # type: ignore[arg-type]
    )


def wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


def test_provision_runs_an_isolated_process(
    driver: LocalDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_DP_POSTGRES_URL", "postgresql://admin@db/postgres")
    monkeypatch.setenv("STRATA_DP_MYSQL_URL", "mysql://admin:pw@db/mysql")
    monkeypatch.setenv("STRATA_DP_ISOLATE_POOL", "3")
    spec = make_spec(driver, limits=ResourceLimits(max_open_files=512))
    state = driver.provision(spec)
    assert state.healthy and state.pid
    name = httpx.get(f"{state.url}/instance_name", timeout=5).text
    assert name == spec.name
    secret_file = driver.data_dir(spec.name) / "instance_secret"
    assert secret_file.read_text() == spec.instance_secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    with open(f"/proc/{state.pid}/environ", "rb") as handle:
        env = dict(item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item)
    assert env[b"STRATA_DP_NAME"] == spec.name.encode()
    assert b"DATABASE_URL" not in env  # the control plane's own settings do not leak
    assert b"STRATA_SECRET_KEY" not in env
    assert b"STRATA_DP_POSTGRES_URL" not in env  # the admin URL stays in the control plane
    assert b"STRATA_DP_MYSQL_URL" not in env
    assert env[b"STRATA_DP_ISOLATE_POOL"] == b"3"  # operator knobs pass through
    # Tenant code may not reach the host's loopback services (Postgres, Redis) by default.
    assert env[b"STRATA_DP_FETCH_ALLOW_PRIVATE"] == b"0"
    with open(f"/proc/{state.pid}/limits") as handle:
        limits = handle.read()
    assert any(
        line.startswith("Max open files") and " 512 " in line for line in limits.splitlines()
    )


def test_killed_process_is_restarted(driver: LocalDriver) -> None:
    spec = make_spec(driver)
    first = driver.provision(spec)
    os.kill(first.pid or 0, signal.SIGKILL)
    wait_for(lambda: driver.state(spec.name).restarts >= 1)
    driver.wait_healthy(spec.name)
    again = driver.state(spec.name)
    assert again.pid != first.pid and again.healthy


def test_stop_is_graceful_and_start_resumes(driver: LocalDriver) -> None:
    spec = make_spec(driver)
    pid = driver.provision(spec).pid
    driver.stop(spec.name)
    state = driver.state(spec.name)
    assert not state.running and driver.upstream(spec.name) is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid or 0, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{state.url}/healthz", timeout=2)
    time.sleep(1)  # a stopped deployment stays stopped: the supervisor does not restart it
    assert not driver.state(spec.name).running
    assert driver.start(spec).healthy
    assert driver.state(spec.name).restarts == 0


def test_destroy_removes_data(driver: LocalDriver) -> None:
    spec = make_spec(driver)
    driver.provision(spec)
    data_dir = driver.data_dir(spec.name)
    assert data_dir.exists()
    driver.destroy(spec)
    assert not data_dir.exists()
    assert not driver.state(spec.name).running
    with pytest.raises(DriverError, match="provision it first"):
        driver.start(spec)


def test_bad_names_and_ports(driver: LocalDriver) -> None:
    with pytest.raises(DriverError, match="invalid deployment name"):
        driver.data_dir("../etc")
    first = driver.allocate_port(set())
    assert driver.allocate_port({first}) != first


@pytest.mark.postgres
def test_postgres_storage_gets_its_own_database(postgres_url: str, tmp_path: object) -> None:
    local = LocalDriver(
        tmp_path / "pg-deployments",
        postgres_admin_url=postgres_url,  # type: ignore[operator]
        port_range=(25500, 25599),
    )
    try:
        spec = make_spec(local, name="pg-otter-123", storage="postgres")
        state = local.provision(spec)
        assert state.healthy
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database_name(spec.name),)
            ).fetchone()
        assert row is not None
        with open(f"/proc/{state.pid}/environ", "rb") as handle:
            assert database_name(spec.name).encode() in handle.read()
        local.destroy(spec)
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database_name(spec.name),)
            ).fetchone()
        assert row is None
    finally:
        local.shutdown()


def _mysql_tables(url: str, database: str) -> list[str]:
    conn = pymysql.connect(**connect_kwargs(url))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (database,),
            )
            return [str(name) for (name,) in cur.fetchall()]
    finally:
        conn.close()


@pytest.mark.mysql
def test_mysql_storage_gets_its_own_database(mysql_url: str, tmp_path: object) -> None:
    local = LocalDriver(
        tmp_path / "my-deployments",  # type: ignore[operator]
        mysql_admin_url=mysql_url,
        port_range=(25600, 25699),
    )
    spec = make_spec(local, name="my-otter-123", storage="mysql")
    name = mysql_databases.database_name(spec.name)
    try:
        state = local.provision(spec)
        assert state.healthy
        # The data plane opened its own database and created the document log in it.
        assert {"documents", "index_entries"} <= set(_mysql_tables(mysql_url, name))
        with open(f"/proc/{state.pid}/environ", "rb") as handle:
            environ = handle.read()
        assert f"/{name}".encode() in environ
        local.destroy(spec)
        assert _mysql_tables(mysql_url, name) == []
    finally:
        local.shutdown()
        mysql_databases.drop_database(mysql_url, spec.name)
