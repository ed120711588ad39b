"""Runs a deployment's "use node" actions in one Node.js worker process (node/host.mjs).

Convex runs actions from "use node" files in Node.js with full Node APIs. Each activation
that has node modules gets one worker: the pushed node modules are written to a fresh temp
dir, and `node` runs with that dir as cwd and HOME, process.env = the deployment's env vars,
and Node's permission model limiting file access to that dir (so a tenant cannot read other
deployments' data or the server's files, nor spawn processes). The push's external packages
(installed by deploy/node_packages.py) are linked in as the modules' `node_modules` and may be
read too. Syscalls come back over a
line-delimited JSON channel on stdio and are served by the same ActionHost as V8 actions.
A call that outlives its timeout kills the worker (JS cannot be interrupted otherwise); a
dead worker is restarted by the next call.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import structlog

from .host_services import ACTION_ASYNC_OPS
from .isolate import CallResult, CallTimeout, SyscallFailure
from .modules import ModuleSource
from .workers import THREADS

log = structlog.get_logger(__name__)
HOST_SCRIPT = Path(__file__).resolve().parent / "node" / "host.mjs"
START_TIMEOUT_SECONDS = 30.0
_ACTION_OPS = frozenset({"1.0/actions/query", "1.0/actions/mutation", "1.0/actions/action"})


class NodeWorkerError(Exception):
    """The Node.js worker could not start or died during a call."""


@dataclass
class _Pending:
    host: Any  # ActionHost of the call, or None for analysis
    done: threading.Event = field(default_factory=threading.Event)
    message: dict[str, Any] | None = None
    failure: str | None = None
    proc: Any = None  # the worker process the call was sent to


class NodeWorker:
    """One Node.js process serving one activation's node modules. Thread-safe."""

    def __init__(
        self,
        name: str,
        modules: Sequence[ModuleSource],
        env: dict[str, str],
        *,
        allow_private: bool = False,
        node_binary: str = "node",
        heap_mb: int = 512,
        packages: Path | None = None,
    ) -> None:
        self.node_binary = node_binary
        self.packages = packages  # holds node_modules of the external packages, if any
        self.heap_mb = heap_mb
        self.allow_private = allow_private  # loopback/private network targets (as for fetch)
        self.name = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:40] or "deployment"
        self.modules = [m for m in modules if m.environment == "node"]
        self.env = dict(env)
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self.starts = 0

    # ---------------------------------------------------------------- public API
    def run_action(
        self, path: str, args_json: str, request_id: str, host: Any, timeout: float
    ) -> CallResult:
        """Run the action at `path` ("module.js:name"); CallTimeout after `timeout` seconds."""
        msg = self._call(
            {"t": "call", "path": path, "args": args_json, "requestId": request_id},
            host,
            timeout,
        )
        return CallResult(
            bool(msg.get("ok")),
            msg.get("result"),
            msg.get("error"),
            list(msg.get("logLines") or []),
        )

    def run(
        self, request: dict[str, Any], host: Any, *, cpu_seconds: float, wall_seconds: float
    ) -> CallResult:
        """Isolate.run's signature, so the runner drives both alike (Node's time is wall time)."""
        return self.run_action(
            str(request["path"]),
            str(request["args"]),
            str(request.get("requestId", "")),
            host,
            wall_seconds,
        )

    def analyze(self, entry_modules: Sequence[str], timeout: float = 60.0) -> list[dict[str, Any]]:
        """What the given node modules export (the same shape as runtime.js's analysis)."""
        msg = self._call({"t": "analyze", "modules": list(entry_modules)}, None, timeout)
        if not msg.get("ok"):
            err = msg.get("error") or {}
            raise NodeWorkerError(f"{err.get('name', 'Error')}: {err.get('message', '')}")
        return list(orjson.loads(str(msg.get("result") or "[]")))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
            workdir, self._dir = self._dir, None
        if proc is not None:
            _kill(proc)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return None if proc is None or proc.poll() is not None else proc.pid

    # ---------------------------------------------------------------- internals
    def _call(self, request: dict[str, Any], host: Any, timeout: float) -> dict[str, Any]:
        pending = _Pending(host)
        with self._lock:
            if self._closed:
                raise NodeWorkerError("The Node.js worker of this deployment was shut down")
            proc = self._ensure_started()
            pending.proc = proc
            call_id = next(self._ids)
            self._pending[call_id] = pending
        with contextlib.suppress(OSError):  # a dead worker: the reader fails this call
            self._send(proc, {**request, "id": call_id})
        if not pending.done.wait(timeout):
            log.warning("node action timed out; restarting worker", deployment=self.name)
            self._restart_after_failure(proc)
            raise CallTimeout()
        if pending.failure is not None:
            raise NodeWorkerError(pending.failure)
        assert pending.message is not None
        if pending.message.get("stalled"):
            # It awaited a promise nothing could settle any more: it would only have run out
            # of time, so it is reported as timed out now (the worker itself is fine).
            raise CallTimeout()
        return pending.message

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self._dir is None:
            self._dir = self._write_modules()
        workdir = self._dir
        tmp = workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "TMPDIR": str(tmp),
            "NODE_ENV": "production",
            **self.env,
        }
        cmd = [
            self.node_binary,
            "--experimental-permission",
            f"--allow-fs-read={workdir}",
            f"--allow-fs-read={HOST_SCRIPT}",
            *([f"--allow-fs-read={self.packages}"] if self.packages is not None else []),
            f"--allow-fs-write={tmp}",
            "--no-warnings",
            "--enable-source-maps",
            f"--max-old-space-size={self.heap_mb}",
            str(HOST_SCRIPT),
            str(workdir / "modules"),
            "allow-private" if self.allow_private else "deny-private",
        ]
        stderr = (workdir / "worker.log").open("ab")
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as e:
            raise NodeWorkerError(f"Could not start Node.js ({self.node_binary}): {e}") from None
        finally:
            stderr.close()
        ready = threading.Event()
        # The host stamps every message with this key (see host.mjs): lines user code writes
        # to fd 1 itself cannot carry it and are dropped.
        key = secrets.token_hex(16)
        threading.Thread(
            target=self._read,
            args=(proc, ready, key),
            name=f"strata-node-{self.name}",
            daemon=True,
        ).start()
        with contextlib.suppress(OSError):  # a dead worker fails the readiness wait below
            self._send(proc, {"t": "hello", "k": key})
        if not ready.wait(START_TIMEOUT_SECONDS) or proc.poll() is not None:
            _kill(proc)
            raise NodeWorkerError(f"The Node.js worker did not start: {self._stderr_tail()}")
        self._proc = proc
        self.starts += 1
        return proc

    def _write_modules(self) -> Path:
        workdir = Path(tempfile.mkdtemp(prefix=f"strata-node-{self.name}-")).resolve()
        root = workdir / "modules"
        root.mkdir()
        (root / "package.json").write_text('{"type": "module"}')
        if self.packages is not None:
            # Bare `import`/`require` of the modules resolve through their node_modules.
            (root / "node_modules").symlink_to(self.packages / "node_modules")
        for m in self.modules:
            target = (root / m.path).resolve()
            if not target.is_relative_to(root):
                raise NodeWorkerError(f"Invalid module path {m.path!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = m.source
            if m.source_map:  # stack traces then name the user's .ts files (--enable-source-maps)
                target.with_name(target.name + ".map").write_text(m.source_map, encoding="utf-8")
                if "//# sourceMappingURL=" not in source[-300:]:
                    source += f"\n//# sourceMappingURL={target.name}.map\n"
            target.write_text(source, encoding="utf-8")
        return workdir

    def _stderr_tail(self) -> str:
        if self._dir is None:
            return ""
        try:
            return (self._dir / "worker.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _send(self, proc: subprocess.Popen[bytes], msg: dict[str, Any]) -> None:
        assert proc.stdin is not None
        data = orjson.dumps(msg) + b"\n"
        with self._write_lock:
            proc.stdin.write(data)
            proc.stdin.flush()

    def _read(self, proc: subprocess.Popen[bytes], ready: threading.Event, key: str) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                msg = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(msg, dict) or msg.get("k") != key:
                log.warning("dropped a forged message on the node channel", deployment=self.name)
                continue
            kind = msg.get("t")
            if kind == "ready":
                ready.set()
            elif kind == "done":
                with self._lock:
                    pending = self._pending.pop(int(msg.get("id", 0)), None)
                if pending is not None:
                    pending.message = msg
                    pending.done.set()
            elif kind == "syscall":
                THREADS.submit(functools.partial(self._serve, proc, msg))
        code = proc.wait()
        ready.set()
        self._fail_all(proc, f"The Node.js worker exited (code {code}) while running the action")

    def _serve(self, proc: subprocess.Popen[bytes], msg: dict[str, Any]) -> None:
        with self._lock:
            pending = self._pending.get(int(msg.get("call", 0)))
        op, raw = str(msg.get("op", "")), str(msg.get("args") or "{}")
        if pending is None or pending.host is None:
            ok, payload = False, orjson.dumps({"message": f"{op}: no running action"}).decode()
        elif op in _ACTION_OPS or op in ACTION_ASYNC_OPS:
            ok, payload = pending.host.run_op(op, raw)
        else:
            try:
                ok, payload = True, pending.host.syscall(op, raw)
            except SyscallFailure as e:
                ok, payload = False, orjson.dumps({"message": e.message, "data": e.data}).decode()
            except Exception as e:
                ok, payload = False, orjson.dumps({"message": f"{type(e).__name__}: {e}"}).decode()
        reply: dict[str, Any] = {"t": "reply", "id": msg.get("id"), "ok": ok}
        if ok:
            reply["result"] = payload
        else:
            reply["error"] = orjson.loads(payload)
        with contextlib.suppress(OSError):  # the worker died: the reader fails its calls
            self._send(proc, reply)

    def _fail_all(self, proc: subprocess.Popen[bytes], reason: str) -> None:
        with self._lock:
            if self._proc is proc:
                self._proc = None
            gone = [k for k, p in self._pending.items() if p.proc is proc]
            failed = [self._pending.pop(k) for k in gone]
        for pending in failed:
            pending.failure = reason
            pending.done.set()

    def _restart_after_failure(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill the worker; the reader then fails its other calls and the next call restarts."""
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
