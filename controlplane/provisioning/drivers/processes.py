"""Data-plane processes that outlive the control plane, and how a new one takes them back.

The local driver starts each data plane in its own session (no death signal from the
control plane), records `{pid, port, start_time, env}` in `<data dir>/supervisor.json`, and
on start re-adopts a recorded process instead of starting another: same pid (checked with
the kernel's start time, so a reused pid is never mistaken for it), same port, same
environment, and /instance_name answering with the deployment's name. An adopted process
is not this process's child: it is watched through /proc.

Memory: V8 reserves terabytes of address space (pointer-compression cages) for a process
whose resident set is ~200 MB, so RLIMIT_AS cannot bound a data plane. The supervisor reads
the resident set of the process and its children instead and kills the process group when
it exceeds the deployment's limit (the supervisor then restarts it with backoff).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from pathlib import Path
from typing import Protocol

import orjson

RECORD = "supervisor.json"
PAGE = os.sysconf("SC_PAGE_SIZE")


class Process(Protocol):
    """What the supervisor needs of a data-plane process: a Popen or an adopted one."""

    pid: int

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (clock ticks since boot), None if it is gone or a
    zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class Adopted:
    """A data plane started by an earlier control plane, watched through /proc."""

    def __init__(self, pid: int, started: int, *, matches: bool = True) -> None:
        self.pid = pid
        self.started = started
        self.matches = matches  # started for the same port and environment
        self._returncode: int | None = None

    @property
    def returncode(self) -> int | None:
        return self._returncode

    def poll(self) -> int | None:
        if self._returncode is None and start_time(self.pid) != self.started:
            self._returncode = -1  # not our child: its exit status is not ours to read
        return self._returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.05)
        return code


def env_digest(env: dict[str, str]) -> str:
    return hashlib.sha256(orjson.dumps(env, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_record(data_dir: Path, pid: int, port: int, env: dict[str, str]) -> None:
    started = start_time(pid)
    if started is None:
        return
    record = {"pid": pid, "port": port, "start_time": started, "env": env_digest(env)}
    tmp = data_dir / (RECORD + ".tmp")
    tmp.write_bytes(orjson.dumps(record))
    os.replace(tmp, data_dir / RECORD)


def clear_record(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / RECORD).unlink()


def recorded(data_dir: Path, port: int, env: dict[str, str]) -> Adopted | None:
    """The recorded process if it still runs `python -m dataplane serve`, else None;
    `matches` says whether it was started for `port` and `env`."""
    try:
        record = orjson.loads((data_dir / RECORD).read_bytes())
        pid, started = int(record["pid"]), int(record["start_time"])
        same = record["port"] == port and record["env"] == env_digest(env)
    except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    if start_time(pid) != started:
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if b"dataplane" not in argv or b"serve" not in argv:
        return None
    return Adopted(pid, started, matches=same)


def resident_bytes(pid: int) -> int:
    """Resident set of `pid` and all its descendants (e.g. the Node.js host)."""
    total = 0
    stack = [pid]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except (OSError, ValueError, IndexError):
            continue
        for task in tasks:
            with contextlib.suppress(OSError, ValueError):
                stack.extend(int(c) for c in (task / "children").read_text().split())
    return total
