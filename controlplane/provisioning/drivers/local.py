"""The default driver: one supervised `python -m dataplane serve` process per deployment.

Each deployment gets its own data directory (SQLite file, revocation list, logs) under `root`
or its own Postgres database, its own port, rlimits, a resident-memory limit, and a supervisor
thread that restarts it with exponential backoff when it exits. Data planes run in their own
session and outlive the control plane: a control plane that crashes or restarts leaves them
serving, and the next one re-adopts them (processes.py). A graceful `shutdown()` stops them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from contract.revocation import write_revoked_keys
from contract.spec import DeploymentSpec, DeploymentState, ResourceLimits
from controlplane.provisioning import mysql as mysql_databases
from controlplane.provisioning.local_instance import LocalInstance
from controlplane.provisioning.postgres import create_database, database_url_for, drop_database

from .base import DriverError, ProvisioningDriver
from .processes import Process, clear_record, recorded, resident_bytes, write_record

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[3]
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
MAX_BACKOFF = 30.0
STABLE_AFTER = 30.0
MEMORY_CHECK_S = 1.0
_CONTROL_PLANE_ONLY = {"STRATA_DP_POSTGRES_URL", "STRATA_DP_MYSQL_URL", "STRATA_DP_PORT_RANGE"}
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "STRATA_LOG_LEVEL")


@dataclass
class _Managed:
    spec: DeploymentSpec
    env: dict[str, str]
    want_running: bool = True
    proc: Process | None = None
    log_file: IO[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0
    next_start: float = 0.0
    memory_checked: float = 0.0
    memory_kills: int = 0


def _preexec(limits: ResourceLimits) -> Callable[[], None]:
    def apply() -> None:
        # Runs between fork and exec: import nothing here (another thread of the parent may
        # hold the import lock). No death signal: a data plane keeps serving while the
        # control plane restarts. No RLIMIT_AS either: V8 reserves far more address space
        # than it uses; memory is bounded by the supervisor's resident-set check.
        if limits.max_open_files:
            _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            want = min(limits.max_open_files, hard) if hard > 0 else limits.max_open_files
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits.cpu_nice:
            os.nice(limits.cpu_nice)

    return apply


class LocalDriver(ProvisioningDriver):
    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        postgres_admin_url: str = "",
        mysql_admin_url: str = "",
        stop_timeout: float = 10.0,
        port_range: tuple[int, int] = (3300, 3999),
        python: str = sys.executable,
        poll_interval: float = 0.25,
    ) -> None:
        self.root = root.resolve()
        self.host = host
        self.postgres_admin_url = postgres_admin_url
        self.mysql_admin_url = mysql_admin_url
        self.stop_timeout = stop_timeout
        self.port_range = port_range
        self.python = python
        self.poll_interval = poll_interval
        self._lock = threading.RLock()
        self._managed: dict[str, _Managed] = {}
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="dp-supervisor", daemon=True)
        self._thread.start()

    # ---- interface -------------------------------------------------------------------------

    def data_dir(self, name: str) -> Path:
        if not NAME_RE.match(name):
            raise DriverError(f"invalid deployment name {name!r}")
        return self.root / name

    def provision(self, spec: DeploymentSpec) -> DeploymentState:
        data_dir = self.data_dir(spec.name)
        LocalInstance(spec.name, data_dir).write_instance_secret(spec.instance_secret)
        if spec.storage == "postgres":
            if not self.postgres_admin_url:
                raise DriverError(
                    f"deployment {spec.name} wants Postgres storage but STRATA_DP_POSTGRES_URL "
                    "is not set"
                )
            create_database(self.postgres_admin_url, spec.name)
        if spec.storage == "mysql":
            if not self.mysql_admin_url:
                raise DriverError(
                    f"deployment {spec.name} wants MySQL storage but STRATA_DP_MYSQL_URL is not set"
                )
            mysql_databases.create_database(self.mysql_admin_url, spec.name)
        return self.start(spec)

    def start(self, spec: DeploymentSpec, *, wait: float = 60.0) -> DeploymentState:
        data_dir = self.data_dir(spec.name)
        if not data_dir.exists():
            raise DriverError(f"deployment {spec.name} has no data directory: provision it first")
        env = self._process_env(spec, data_dir)
        with self._lock:
            known = spec.name in self._managed
        adopted = None if known else self._adopt(spec, data_dir, env)
        with self._lock:
            managed = self._managed.get(spec.name)
            if managed is None:
                managed = self._managed[spec.name] = _Managed(spec=spec, env=env)
                if adopted is not None:
                    managed.proc, managed.started_at = adopted, time.monotonic()
            else:
                managed.spec, managed.env, managed.failures, managed.next_start = spec, env, 0, 0
            managed.want_running = True
        self._wake.set()
        if wait:
            self.wait_healthy(spec.name, timeout=wait)
        return self.state(spec.name)

    def stop(self, name: str) -> None:
        with self._lock:
            managed = self._managed.get(name)
            if managed is None:
                return
            managed.want_running = False
            proc = managed.proc
        if proc is not None:
            self._terminate(proc)
        with self._lock:
            self._close_log(managed)
            managed.proc = None
        clear_record(self.data_dir(name))

    def destroy(self, spec: DeploymentSpec) -> None:
        self.stop(spec.name)
        with self._lock:
            self._managed.pop(spec.name, None)
        shutil.rmtree(self.data_dir(spec.name), ignore_errors=True)
        if spec.storage == "postgres" and self.postgres_admin_url:
            drop_database(self.postgres_admin_url, spec.name)
        if spec.storage == "mysql" and self.mysql_admin_url:
            mysql_databases.drop_database(self.mysql_admin_url, spec.name)

    def state(self, name: str) -> DeploymentState:
        with self._lock:
            managed = self._managed.get(name)
            if managed is None:
                return DeploymentState(name=name, running=False, healthy=False)
            proc, port, restarts = managed.proc, managed.spec.port, managed.restarts
        running = proc is not None and proc.poll() is None
        return DeploymentState(
            name=name,
            running=running,
            healthy=running and self._healthy(port),
            pid=proc.pid if running and proc is not None else None,
            restarts=restarts,
            url=f"http://{self.host}:{port}",
        )

    def publish_revoked_keys(self, spec: DeploymentSpec, key_ids: Iterable[str]) -> None:
        write_revoked_keys(self.data_dir(spec.name), spec.instance_secret, key_ids)

    def allocate_port(self, used: set[int]) -> int:
        with self._lock:
            taken = used | {m.spec.port for m in self._managed.values()}
        for port in range(self.port_range[0], self.port_range[1] + 1):
            if port in taken:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                try:
                    probe.bind((self.host, port))
                except OSError:
                    continue
            return port
        raise DriverError(f"no free port left in {self.port_range[0]}-{self.port_range[1]}")

    def upstream(self, name: str) -> str | None:
        with self._lock:
            managed = self._managed.get(name)
            if managed is None or not managed.want_running:
                return None
            return f"http://{self.host}:{managed.spec.port}"

    def shutdown(self) -> None:
        self._closing.set()
        self._wake.set()
        with self._lock:
            names = list(self._managed)
        for name in names:
            self.stop(name)
        self._thread.join(timeout=5)

    def wait_healthy(self, name: str, timeout: float = 60.0) -> None:
        """Block until /healthz answers, or raise DriverError with the log tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(name)
            if state.healthy:
                return
            time.sleep(0.2)
        raise DriverError(
            f"deployment {name} did not become healthy within {timeout:.0f}s; "
            f"log tail:\n{self.log_tail(name)}"
        )

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.data_dir(name) / "logs" / "dataplane.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # ---- supervision -----------------------------------------------------------------------

    def _adopt(self, spec: DeploymentSpec, data_dir: Path, env: dict[str, str]) -> Process | None:
        """The data plane an earlier control plane left running for this deployment, if it
        is the one this spec would start and it answers; a stale one is stopped."""
        found = recorded(data_dir, spec.port, env)
        if found is None:
            return None
        if found.matches and self._answers_as(spec.port, spec.name):
            log.info("adopted deployment %s (pid %s, port %s)", spec.name, found.pid, spec.port)
            return found
        log.warning("stopping stale process %s of deployment %s", found.pid, spec.name)
        self._terminate(found)
        clear_record(data_dir)
        return None

    def _answers_as(self, port: int, name: str, patience: float = 15.0) -> bool:
        """Whether the process on `port` serves deployment `name` (a busy one gets time)."""
        url = f"http://127.0.0.1:{port}/instance_name"
        deadline = time.monotonic() + patience
        while True:
            try:
                return httpx.get(url, timeout=5.0).text == name
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)

    def _check_memory(self, managed: _Managed, now: float) -> None:
        """Kill a process group whose resident set exceeds the deployment's limit."""
        limit_mb, proc = managed.spec.limits.memory_mb, managed.proc
        if not limit_mb or proc is None or now - managed.memory_checked < MEMORY_CHECK_S:
            return
        managed.memory_checked = now
        used = resident_bytes(proc.pid)
        if used <= limit_mb * 1024 * 1024:
            return
        managed.memory_kills += 1
        log.error(
            "deployment %s uses %d MB, over its memory limit of %d MB: restarting it",
            managed.spec.name,
            used // (1024 * 1024),
            limit_mb,
        )
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def _process_env(self, spec: DeploymentSpec, data_dir: Path) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        # Operator-wide data-plane knobs (e.g. STRATA_DP_ISOLATE_POOL) pass through; the
        # Postgres and MySQL admin URLs never do: a deployment only learns its own database's URL.
        env.update(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith("STRATA_DP_") and k not in _CONTROL_PLANE_ONLY
        )
        instance = LocalInstance(spec.name, data_dir)
        database_url = ""
        if spec.storage == "postgres":
            database_url = database_url_for(self.postgres_admin_url, spec.name)
        elif spec.storage == "mysql":
            database_url = mysql_databases.database_url_for(self.mysql_admin_url, spec.name)
        env.update(instance.process_env(port=spec.port, database_url=database_url))
        env["PYTHONPATH"] = str(REPO_ROOT)
        env["PYTHONUNBUFFERED"] = "1"
        # Tenants share this host with the platform's Postgres and Redis: user code may not
        # reach loopback or private addresses unless the operator opts in explicitly.
        env.setdefault("STRATA_DP_FETCH_ALLOW_PRIVATE", "0")
        if spec.usage_report_url:
            env["STRATA_DP_USAGE_URL"] = spec.usage_report_url
        return env

    def _spawn(self, managed: _Managed) -> None:
        spec = managed.spec
        logs = self.data_dir(spec.name) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self._close_log(managed)
        managed.log_file = open(logs / "dataplane.log", "ab")  # noqa: SIM115 - owned by _Managed
        argv = [self.python, "-m", "dataplane", "serve", "--host", self.host]
        argv += ["--port", str(spec.port)]
        managed.proc = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=managed.env,
            stdin=subprocess.DEVNULL,
            stdout=managed.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_preexec(spec.limits),
        )
        managed.started_at = time.monotonic()
        write_record(self.data_dir(spec.name), managed.proc.pid, spec.port, managed.env)
        log.info("started deployment %s (pid %s, port %s)", spec.name, managed.proc.pid, spec.port)

    def _supervise(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            if self._closing.is_set():
                return
            with self._lock:
                for managed in self._managed.values():
                    try:
                        self._reconcile(managed)
                    except Exception:
                        log.exception("supervising %s failed", managed.spec.name)

    def _reconcile(self, managed: _Managed) -> None:
        if not managed.want_running:
            return
        now = time.monotonic()
        proc = managed.proc
        if proc is not None and proc.poll() is None:
            if managed.failures and now - managed.started_at > STABLE_AFTER:
                managed.failures = 0
            self._check_memory(managed, now)
            return
        if proc is not None:
            log.warning(
                "deployment %s exited with %s; restarting", managed.spec.name, proc.returncode
            )
            managed.proc = None
            managed.restarts += 1
            managed.failures += 1
            managed.next_start = now + min(MAX_BACKOFF, 0.5 * 2 ** (managed.failures - 1))
        if now >= managed.next_start:
            self._spawn(managed)

    def _terminate(self, proc: Process) -> None:
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    @staticmethod
    def _close_log(managed: _Managed) -> None:
        if managed.log_file is not None:
            managed.log_file.close()
            managed.log_file = None

    @staticmethod
    def _healthy(port: int) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False
